"""db-init discovery without a database: names, numbering, checksums, refused content."""

from pathlib import Path

import pytest

from trm_directus.dbinit.discovery import checksum, discover
from trm_directus.dbinit.runner import ADVISORY_LOCK_ID
from trm_directus.errors import MigrationLayoutError


def write(path: Path, text: str = "SELECT 1;\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_checksum_ignores_bom_and_line_endings_but_not_content():
    lf = b"SELECT 1;\nSELECT 2;\n"
    assert checksum(lf) == checksum(b"\xef\xbb\xbf" + lf)
    assert checksum(lf) == checksum(lf.replace(b"\n", b"\r\n"))
    assert checksum(lf) == checksum(lf.replace(b"\n", b"\r"))
    assert checksum(lf) != checksum(b"SELECT 1;\nSELECT 3;\n")


def test_committed_db_init_is_well_formed(repo):
    files = discover(repo / "db-init")
    assert [f.name for f in files][:3] == ["001_extensions.sql", "002_positions.sql", "003_positions_faulty.sql"]
    assert [f.number for f in files] == sorted(f.number for f in files if f.phase == "pre") + sorted(
        f.number for f in files if f.phase == "post"
    )


def test_files_are_ordered_pre_then_post_by_number(tmp_path):
    write(tmp_path / "010_b.sql")
    write(tmp_path / "002_a.sql")
    write(tmp_path / "post" / "005_c.sql")
    write(tmp_path / "README.md", "docs are allowed")
    files = discover(tmp_path)
    assert [(f.phase, f.name) for f in files] == [("pre", "002_a.sql"), ("pre", "010_b.sql"), ("post", "005_c.sql")]


@pytest.mark.parametrize(
    "bad_name", ["1_short.sql", "001-dash.sql", "001_Upper.sql", "nonumber.sql", "001_.sql", "001_x.txt", "0001_four.sql"]
)
def test_badly_named_file_is_refused_with_its_name(tmp_path, bad_name):
    write(tmp_path / "001_ok.sql")
    write(tmp_path / bad_name)
    with pytest.raises(MigrationLayoutError) as info:
        discover(tmp_path)
    assert bad_name in info.value.render()
    assert "NNN_name.sql" in info.value.render()


def test_duplicate_number_across_phases_is_refused(tmp_path):
    write(tmp_path / "004_pre.sql")
    write(tmp_path / "post" / "004_post.sql")
    with pytest.raises(MigrationLayoutError) as info:
        discover(tmp_path)
    assert "number 004 is used by more than one file" in info.value.render()
    assert "004_pre.sql" in info.value.render() and "004_post.sql" in info.value.render()


def test_unexpected_subdirectory_is_refused(tmp_path):
    write(tmp_path / "001_ok.sql")
    (tmp_path / "later").mkdir()
    with pytest.raises(MigrationLayoutError, match="malformed"):
        discover(tmp_path)


def test_transaction_control_in_a_file_is_refused_with_its_line(tmp_path):
    write(tmp_path / "001_tx.sql", "SELECT 1;\n\nCOMMIT;\n")
    with pytest.raises(MigrationLayoutError) as info:
        discover(tmp_path)
    assert "001_tx.sql:3: COMMIT cannot be used" in info.value.render()


def test_empty_and_non_utf8_files_are_refused(tmp_path):
    write(tmp_path / "001_empty.sql", "-- only a comment\n")
    (tmp_path / "002_latin1.sql").write_bytes(b"SELECT '\xe9';\n")
    with pytest.raises(MigrationLayoutError) as info:
        discover(tmp_path)
    text = info.value.render()
    assert "001_empty.sql: holds no SQL statement" in text
    assert "002_latin1.sql: not UTF-8" in text


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(MigrationLayoutError, match="does not exist"):
        discover(tmp_path / "nope")


def test_advisory_lock_id_is_the_documented_constant():
    # docs/reference/db-init.md documents this number; changing it would let old and new runners overlap.
    assert ADVISORY_LOCK_ID == 6076003918838647088
