"""Which db-init files a directory holds: `NNN_name.sql` directly in it (phase `pre`) and in `post/`
(phase `post`), numbers unique across both, read and split into statements, with their checksums.
Anything else in the directory (but a README) is a layout error, raised before anything runs."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import (
    MigrationLayoutError,
)
from . import sqlsplit

PHASES = ("pre", "post")
POST_SUBDIR = "post"
FILE_RE = re.compile(r"^(?P<number>\d{3})_(?P<slug>[a-z0-9][a-z0-9_]*)\.sql$")
ALLOWED_OTHER_SUFFIXES = (".md",)


def checksum(data: bytes) -> str:
    """sha256 of the content with a UTF-8 BOM stripped and line endings normalised to LF."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class MigrationFile:
    path: Path
    phase: str
    number: int
    checksum: str
    statements: tuple[sqlsplit.Statement, ...] = field(repr=False)

    @property
    def name(self) -> str:
        return self.path.name


def discover(root: Path) -> list[MigrationFile]:
    """All migration files of both phases, in apply order; layout errors are raised before any run."""
    root = Path(root)
    if not root.is_dir():
        raise MigrationLayoutError(f"db-init directory {root} does not exist", "pass --dir pointing at the db-init directory")
    problems: list[str] = []
    files: list[MigrationFile] = []
    for phase, directory in (("pre", root), ("post", root / POST_SUBDIR)):
        if phase == "post" and directory.is_symlink():
            problems.append(f"{directory}: is a symbolic link (post/ must be a real directory inside db-init/)")
            continue
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            kind = _file_kind(path)
            if kind == "directory":
                if not (phase == "pre" and path.name == POST_SUBDIR):
                    problems.append(f"{path}: unexpected directory (only {POST_SUBDIR}/ may sit in db-init/)")
                continue
            if path.suffix in ALLOWED_OTHER_SUFFIXES:
                continue
            if kind != "file":
                problems.append(f"{path}: is {kind}: db-init files must be regular files (no links, FIFOs or devices)")
                continue
            m = FILE_RE.match(path.name)
            if not m:
                problems.append(f"{path}: name does not match NNN_name.sql (three digits, underscore, lower-case name)")
                continue
            try:
                files.append(_load(path, phase, int(m.group("number"))))
            except MigrationLayoutError as exc:
                problems.append(exc.what)
    by_number: dict[int, list[MigrationFile]] = {}
    for f in files:
        by_number.setdefault(f.number, []).append(f)
    for number, same in sorted(by_number.items()):
        if len(same) > 1:
            names = ", ".join(str(f.path.relative_to(root)) for f in same)
            problems.append(f"number {number:03d} is used by more than one file: {names}")
    if problems:
        raise MigrationLayoutError(
            f"db-init directory {root} is malformed ({len(problems)} problem(s)); nothing was run",
            "rename the files to NNN_name.sql with numbers unique across db-init/ and db-init/post/",
            details="\n".join(f"  {p}" for p in problems),
        )
    return sorted(files, key=lambda f: (PHASES.index(f.phase), f.number))


def _file_kind(path: Path) -> str:
    """What `path` itself is (symbolic links are not followed): file, directory, or what it is instead."""
    mode = path.lstat().st_mode
    for test, kind in (
        (stat.S_ISREG, "file"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "a special file"


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file, opened without following a link or blocking on a FIFO swapped in meanwhile."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise MigrationLayoutError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise MigrationLayoutError(f"{path}: is not a regular file")
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _load(path: Path, phase: str, number: int) -> MigrationFile:
    data = _read_regular(path)
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise MigrationLayoutError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    statements = tuple(sqlsplit.split(text))
    if not statements:
        raise MigrationLayoutError(f"{path}: holds no SQL statement")
    for stmt in statements:
        keyword = sqlsplit.transaction_control(stmt)
        if keyword:
            raise MigrationLayoutError(
                f"{path}:{stmt.line}: {keyword} cannot be used: the runner wraps each file in one transaction"
            )
    return MigrationFile(path=path, phase=phase, number=number, checksum=checksum(data), statements=statements)
