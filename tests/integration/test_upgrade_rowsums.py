"""The upgrade gate's row checksums on a real PostgreSQL: what counts as a lost row or a changed value."""

from __future__ import annotations

import psycopg

from tests.conftest import execute
from trm_directus.db import rowsums

SETUP = """
CREATE TABLE directus_collections (collection text PRIMARY KEY);
INSERT INTO directus_collections VALUES ('fleet'), ('folder');
CREATE TABLE fleet (id int PRIMARY KEY, name varchar(40), rating real);
INSERT INTO fleet VALUES (1, 'Motorsport Club Albania', 4.5), (2, 'ACI', 3), (3, NULL, NULL);
CREATE TABLE positions (device_id text, ts timestamptz);
INSERT INTO positions VALUES ('352094100000014', '2026-06-07T08:00:00Z');
CREATE TABLE not_ours (id int);
"""


def measure(dsn: str, columns=None) -> dict[str, rowsums.Table]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return rowsums.measure(conn, {"positions"}, columns)


def test_widening_keeps_the_checksum_and_narrowing_a_value_or_dropping_a_column_does_not(fresh_db):
    execute(fresh_db, SETUP)
    before = measure(fresh_db)
    assert sorted(before) == ["fleet", "positions"]  # collections with a table, and db-init's tables
    assert (before["fleet"].rows, before["fleet"].columns) == (3, ("id", "name", "rating"))
    columns = {name: t.columns for name, t in before.items()}

    execute(fresh_db, "ALTER TABLE fleet ALTER COLUMN name TYPE varchar(200); ALTER TABLE fleet ADD COLUMN extra int")
    assert rowsums.compare(before, measure(fresh_db, columns))[1] == []  # widened, a column added: no change

    # As Directus applies it (USING col::type): truncates "Motorsport Club Albania"
    execute(fresh_db, "ALTER TABLE fleet ALTER COLUMN name TYPE varchar(5) USING name::varchar(5)")
    assert rowsums.compare(before, measure(fresh_db, columns))[1] == ["fleet: values changed (checksum differs)"]

    execute(fresh_db, "ALTER TABLE fleet DROP COLUMN rating; DELETE FROM positions")
    assert rowsums.compare(before, measure(fresh_db, columns))[1] == [
        "fleet: column(s) dropped: rating",
        "positions: 1 → 0 rows",
    ]
    execute(fresh_db, "DROP TABLE positions")
    assert rowsums.compare(before, measure(fresh_db, columns))[1][-1] == "positions: table gone (1 rows)"
