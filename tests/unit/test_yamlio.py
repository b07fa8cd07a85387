"""The strict YAML loader: duplicate keys, alias and depth budgets, line numbers, unreadable files."""

import os

import pytest

from trm_directus.documents import yamlio
from trm_directus.errors import SeedError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", "x.yaml:3: duplicate key 'a' (first at line 1)"),
        ("top:\n  - k: 1\n    j: 2\n    k: 3\n", "x.yaml:4: duplicate key 'k' (first at line 2)"),
        ("{a: 1, a: 2}\n", "x.yaml:1: duplicate key 'a' (first at line 1)"),
        ("1: x\n1: y\n", "x.yaml:2: duplicate key 1 (first at line 1)"),
        ("r: &r [*r]\n", "x.yaml:1: an alias refers to a node that contains it"),
        ("a: [" * 70 + "]" * 70 + "\n", "x.yaml:1: nested deeper than 64 levels"),
        ("a: [unclosed\n", "x.yaml:2: not valid YAML"),
        (
            "".join(f"k{i}: &a{i} {i}\n" for i in range(101)) + "l: [" + ", ".join(f"*a{i}" for i in range(101)) + "]\n",
            "x.yaml:102: more than 100 aliases",
        ),
    ],
)
def test_bad_documents_are_refused_with_file_and_line(text, message):
    with pytest.raises(SeedError) as info:
        yamlio.load(text, "x.yaml", error=SeedError, hint="fix it")
    assert info.value.what.startswith(message), info.value.what
    assert info.value.hint == "fix it"


def test_aliases_within_budget_and_merge_keys_still_work():
    text = "base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\nlist: [*b, *b]\n"
    data = yamlio.load(text, "x.yaml")
    assert data["use"] == {"x": 1, "y": 3} and data["list"] == [{"x": 1, "y": 2}] * 2


def test_expanded_size_counts_aliases_without_expanding_them():
    levels = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(4)
    )
    assert yamlio.load(levels, "ok.yaml")["e"][0][0][0][0] == ["x"] * 10  # 10^5 expanded: allowed
    with pytest.raises(Exception, match="expand to more than 1,000,000 nodes"):
        yamlio.load(levels + "f: &f [" + ", ".join(["*e"] * 10) + "]\ng: [" + ", ".join(["*f"] * 10) + "]\n", "big.yaml")


def test_lines_map_paths_to_lines():
    data, lines = yamlio.load_with_lines("a:\n  - b: 1\n    c: [2, 3]\nd: 4\n", "x.yaml")
    assert data == {"a": [{"b": 1, "c": [2, 3]}], "d": 4}
    assert lines[("a", 0, "c")] == 3 and lines[("d",)] == 4 and lines[("a", 0)] == 2


def test_read_text_refuses_special_and_undecodable_files(tmp_path):
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(SeedError, match="not a regular file \\(a FIFO\\)"):
        yamlio.read_text(fifo, error=SeedError)
    with pytest.raises(SeedError, match="not a regular file \\(a directory\\)"):
        yamlio.read_text(tmp_path, error=SeedError)
    (tmp_path / "latin.yaml").write_bytes(b"a: 1\nname: caf\xe9\n")
    with pytest.raises(SeedError, match="not UTF-8 \\(byte 0xe9 at line 2, offset 14\\)"):
        yamlio.read_text(tmp_path / "latin.yaml", error=SeedError)
    with pytest.raises(SeedError, match="does not exist"):
        yamlio.read_text(tmp_path / "nope.yaml", error=SeedError)
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert yamlio.read(tmp_path / "bom.yaml") == {"a": 1}


def test_libyaml_reads_the_committed_files_and_gives_what_the_strict_python_loader_gives(repo):
    for path in [*(repo / "snapshots").glob("*.yaml"), *(repo / "seeds").glob("*.yaml")]:
        text = path.read_text()
        assert yamlio._fast(text), f"{path.name} should take the libyaml path"
        fast = yamlio._parse(text, str(path), SeedError, "x", with_lines=True, fast=True)
        slow = yamlio._parse(text, str(path), SeedError, "x", with_lines=True, fast=False)
        assert fast == slow, path.name


def test_text_that_could_nest_deeper_than_the_c_stack_allows_takes_the_python_loader():
    assert not yamlio._fast("- " * 3000 + "x\n")  # one line, 3,000 levels
    assert not yamlio._fast("[" * 6000 + "]" * 6000)
    with pytest.raises(SeedError) as info:
        yamlio.load("[" * 3000 + "]" * 3000, "deep.yaml", error=SeedError, hint="fix it")
    assert info.value.what.startswith("deep.yaml:1: nested deeper than 64 levels"), info.value.what
