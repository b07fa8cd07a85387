"""The SQL splitter: statement boundaries and the line each statement starts on."""

from trm_directus.dbinit import sqlsplit
from trm_directus.dbinit.sqlsplit import Statement


def test_splits_on_top_level_semicolons_and_tracks_lines():
    text = "CREATE TABLE a (x int);\n\n-- comment; not a statement\nINSERT INTO a VALUES (1);\n"
    stmts = sqlsplit.split(text)
    assert [s.sql for s in stmts] == ["CREATE TABLE a (x int)", "-- comment; not a statement\nINSERT INTO a VALUES (1)"]
    assert [s.line for s in stmts] == [1, 3]


def test_semicolons_inside_quotes_and_dollar_quotes_do_not_split():
    text = (
        "SELECT 'a;b', \"we;ird\";\n"
        "DO $$ BEGIN PERFORM 1; PERFORM 2; END $$;\n"
        "DO $body$ BEGIN RAISE NOTICE 'x;'; END $body$;\n"
        "SELECT E'it\\'s;';\n"
    )
    stmts = sqlsplit.split(text)
    assert len(stmts) == 4
    assert stmts[1].sql.startswith("DO $$") and stmts[1].sql.endswith("END $$")
    assert stmts[2].line == 3
    assert stmts[3].sql == "SELECT E'it\\'s;'"


def test_block_comments_nest_and_comment_only_chunks_are_dropped():
    text = "/* outer /* inner; */ still; */ SELECT 1;\n-- trailing only\n/* x */;\n"
    stmts = sqlsplit.split(text)
    assert len(stmts) == 1
    assert stmts[0].sql.endswith("SELECT 1")


def test_statement_without_final_semicolon_is_kept():
    assert [s.sql for s in sqlsplit.split("SELECT 1;\nSELECT 2\n")] == ["SELECT 1", "SELECT 2"]


def test_line_of_offset_counts_newlines_inside_the_statement():
    stmt = Statement(sql="SELECT\n  1,\n  nope", line=10)
    assert stmt.line_of_offset(0) == 10
    assert stmt.line_of_offset(stmt.sql.index("nope")) == 12


def test_transaction_control_is_detected_but_plpgsql_blocks_are_not():
    assert sqlsplit.transaction_control(Statement("BEGIN", 1)) == "BEGIN"
    assert sqlsplit.transaction_control(Statement("commit", 1)) == "COMMIT"
    assert sqlsplit.transaction_control(Statement("CREATE INDEX CONCURRENTLY i ON t (x)", 1)) == "CONCURRENTLY"
    assert sqlsplit.transaction_control(Statement("DO $$ BEGIN PERFORM 1; END $$", 1)) is None
    assert (
        sqlsplit.transaction_control(
            Statement("CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql", 1)
        )
        is None
    )
    assert sqlsplit.transaction_control(Statement("CREATE TABLE t (x int)", 1)) is None
