"""The drift gate (`nox -s drift`): do the committed artifacts rebuild exactly the committed schema?

On a throw-away native stack built from a clean database with only the committed artifacts:
1. boot (every entrypoint step);
2. take a fresh snapshot (REST);
3. compare it with the committed snapshot after the documented normalisation (normalize.py);
   also: columns of Directus collections that Directus does not know (raw SQL on a Directus
   table: absent from every snapshot, lost on rebuild) are drift, and so are database objects
   that pin a Directus-managed column (dependents.py: Directus could no longer change that
   field); a difference the committed snapshot cannot be applied over (the schema guard's
   BLOCKED: data the change would fail on, or an object pinning the column) is listed with the
   field, the change and the blocking object;
4. boot a second time on the same database: no db-init file applied, the schema step recognises
   the database as unchanged, Directus's own diff (POST /schema/diff) of the committed snapshot
   is empty, and the snapshot is the same as after the first boot; a second boot that fails is
   drift too, reported by its failing step and our own error lines (never Directus's stack trace);
5. the version pins agree and db-init files are well-formed;
6. system artifacts (snapshots/access.yaml, ui.yaml): the database built from the file holds exactly it (and a
   capture writes the same bytes); the second boot applies nothing and changes none of it.
Exit 0 clean, 2 drift (readable diff on stdout, Markdown report for CI), 1 error.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from .. import console, paths
from ..artifacts import registry as artifact_files
from ..artifacts import sync as artifact_sync
from ..dbinit.discovery import discover
from ..dbinit.ledger import LEDGER
from ..directus.api import Directus
from ..errors import StackError
from ..schema import apply, dependents, guard, impact, normalize, pin_check, snapshot
from ..schema import diff as diffs
from ..stacks.native import NativeStack

LABELS = {"create": "missing in database", "update": "differs", "delete": "only in database"}
MD_LABELS = {"create": "missing in database", "update": "differs", "delete": "**only in database**"}

_UNMANAGED_SQL = """
SELECT c.table_name, c.column_name
  FROM information_schema.columns c
  JOIN directus_collections dc ON dc.collection = c.table_name
  LEFT JOIN directus_fields df ON df.collection = c.table_name AND df.field = c.column_name
 WHERE c.table_schema = 'public' AND df.id IS NULL
 ORDER BY 1, 2
"""


@dataclass
class DriftReport:
    diff: diffs.SchemaDiff = field(default_factory=diffs.SchemaDiff)
    unmanaged: list[str] = field(default_factory=list)
    pinned: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    idempotency: list[str] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    snapshot_path: str = ""

    @property
    def clean(self) -> bool:
        return self.diff.empty and not (
            self.unmanaged or self.pinned or self.blocked or self.idempotency or self.pins or self.artifacts
        )

    def render_text(self) -> str:
        lines = [f"drift gate: {'CLEAN' if self.clean else 'DRIFT'} ({self.snapshot_path})"]
        lines.append("schema (committed snapshot vs a database built from the committed artifacts):")
        lines += ["  " + ln for ln in self.diff.render_text(LABELS).splitlines()]
        for title, items in (
            ("columns Directus does not know (raw SQL on Directus tables)", self.unmanaged),
            (f"columns pinned by database objects ({PINNED_WHY})", self.pinned),
            ("the committed snapshot cannot be applied to this database (schema guard: BLOCKED)", self.blocked),
            ("second boot is not a no-op", self.idempotency),
            ("version pins disagree", self.pins),
            ("system artifacts (access rules, list layouts, dashboards) differ", self.artifacts),
        ):
            if items:
                lines.append(f"{title}:")
                lines += [f"  {i}" for i in items]
        if self.diff.normalised:
            lines.append(f"normalised, not drift ({len(self.diff.normalised)}; see normalize.py):")
            lines += [f"  {n}" for n in self.diff.normalised[:20]]
        lines.append("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()))
        return "\n".join(lines)

    def render_markdown(self) -> str:
        head = "# Drift gate: " + ("clean ✅" if self.clean else "drift found ❌") + "\n\n"
        head += f"Snapshot `{self.snapshot_path}`; timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items())
        body = self.diff.render_markdown("Schema", MD_LABELS)
        extra = ""
        for title, items in (
            ("Columns Directus does not know", self.unmanaged),
            ("Columns pinned by database objects", self.pinned),
            ("The committed snapshot cannot be applied to this database", self.blocked),
            ("Second boot is not a no-op", self.idempotency),
            ("Version pins disagree", self.pins),
            ("System artifacts differ", self.artifacts),
        ):
            if items:
                extra += f"\n## {title}\n\n" + "\n".join(f"- `{i}`" for i in items) + "\n"
        how = (
            "\n## How to fix\n\nCapture the schema from a dev stack with `invoke snapshot` and commit it; "
            "never change Directus-managed tables with raw SQL (put constraints in `db-init/post/`).\n"
        )
        return head + "\n\n" + body + extra + ("" if self.clean else how)


def static_checks(root: Path, snapshot_path: Path, db_init_dir: Path) -> tuple[snapshot.Snapshot | None, list[str]]:
    return snapshot.read(snapshot_path), pin_check.check(root, snapshot_path)


def gate(snapshot_path: Path, db_init_dir: Path, *, root: Path | None = None, stack: NativeStack | None = None) -> DriftReport:
    """The gate on a throw-away stack; with `stack`, steps 2-6 on that running stack's database (the upgrade gate)."""
    root = root or paths.repo_root()
    report = DriftReport(snapshot_path=str(snapshot_path))
    t0 = time.monotonic()
    discover(db_init_dir)  # malformed db-init is an error (exit 1) before anything boots
    owned = snapshot.owned_tables(db_init_dir)
    # The pins and the committed snapshot are read while the first boot runs (it waits on its processes).
    with contextlib.ExitStack() as scope:
        statics = scope.enter_context(ThreadPoolExecutor(1, thread_name_prefix="drift-static")).submit(
            static_checks, root, snapshot_path, db_init_dir
        )
        stack = stack or scope.enter_context(NativeStack(snapshot_path=snapshot_path, db_init_dir=db_init_dir))
        report.timings["first boot"] = time.monotonic() - t0
        committed, report.pins = statics.result()
        api = Directus(stack.url, stack.info.admin_token)
        fresh, _ = snapshot.without_tables(api.snapshot(), owned)
        target = committed or snapshot.empty_like(fresh)
        report.diff = diffs.compute(fresh, target, normalise=normalize.normalise)
        with psycopg.connect(stack.info.dsn) as conn:
            report.unmanaged = [f"{t}.{c}" for t, c in conn.execute(_UNMANAGED_SQL) if t not in owned]
            report.pinned = dependents.render(dependents.pinned(conn))
            report.blocked = blocked(conn, fresh, target, report.diff)
            ledger = conn.execute(f"SELECT file_name, checksum, applied_at FROM {LEDGER} ORDER BY number").fetchall()
            files = {n: artifact_files.default_path(n, Path(snapshot_path).parent) for n in artifact_files.FILES}
            report.artifacts = [d for n, p in files.items() for d in artifact_sync.differences(conn, p, n)]
            captured = {n: artifact_sync.document.render(artifact_sync.capture(conn, n)) for n in files}

        t1 = time.monotonic()
        stack.stop_directus()
        try:
            stack.boot()
        except StackError as exc:
            report.idempotency += boot_failure(stack, exc, "second boot")
            report.timings["total"] = time.monotonic() - t0
            return report
        report.timings["second boot"] = time.monotonic() - t1
        log = stack.boot_output()
        for phase in ("pre", "post"):
            if f"db-init {phase}: 0 applied" not in log:
                report.idempotency.append(f"db-init {phase} applied files on the second boot")
        if committed is not None:
            if apply.MSG_UNCHANGED not in log:
                report.idempotency.append("schema apply did not recognise the database as unchanged on the second boot")
            # Directus's own diff of the committed snapshot against the rebooted instance must be empty.
            remaining = api.schema_diff(committed)
            if remaining:
                sections = remaining.get("diff", {})
                items = [f"{s} {e.get('collection')}.{e.get('field') or ''}".rstrip(".") for s in sections for e in sections[s]]
                report.idempotency.append(f"Directus would still apply {len(items)} change(s): {', '.join(items[:10])}")
        for n, p in files.items():
            if p.exists() and f"{n} artifacts: {artifact_sync.MSG_UNCHANGED}" not in log:
                report.idempotency.append(f"{p.name} was applied again on the second boot")
        again, _ = snapshot.without_tables(api.snapshot(), owned)
        if again != fresh:
            second = diffs.compute(fresh, again)
            report.idempotency += [f"snapshot changed between boots: {c.action} {c.name}" for c in second.changes]
        with psycopg.connect(stack.info.dsn) as conn:
            if conn.execute(f"SELECT file_name, checksum, applied_at FROM {LEDGER} ORDER BY number").fetchall() != ledger:
                report.idempotency.append("the db-init ledger changed on the second boot")
            for n, text in captured.items():
                if artifact_sync.document.render(artifact_sync.capture(conn, n)) != text:
                    report.idempotency.append(f"{n} artifacts changed between boots")
    report.timings["total"] = time.monotonic() - t0
    return report


PINNED_WHY = "Directus can no longer change these fields: design rule 9, db-init/README.md"
# What a failed boot's log says in our own words: the failing step, the guard's verdicts, and our
# error (`FAILED: …` up to its `What to do: …`, at most ERROR_LINES lines, stack frames left out).
# Directus's own output stays in the log file.
OWN_LINES = ("[entrypoint] FAILED", "  BLOCKED", "  DESTRUCTIVE")
ERROR_LINES = 20
STACK_FRAME = re.compile(r'^\s+at |^Traceback|^\s+File "')


def blocked(conn: psycopg.Connection, current: snapshot.Snapshot, target: snapshot.Snapshot, d: diffs.SchemaDiff) -> list[str]:
    """The changes from `current` to `target` that the schema guard would refuse whatever is allowed."""
    if d.empty:
        return []
    return [a.describe() for a in impact.assess(guard.classify(current, target, d), conn).blocked]


def boot_failure(stack: NativeStack, exc: StackError, name: str) -> list[str]:
    """A failed boot as report lines: what failed, and the lines of the boot log that explain it."""
    lines, error = [f"the {name} failed: {exc.what}"], 0
    for ln in stack.boot_output().splitlines():
        error = 1 if ln.startswith("FAILED:") else error + 1 if error else 0
        if (ln.startswith(OWN_LINES) or 0 < error <= ERROR_LINES) and not STACK_FRAME.match(ln):
            lines.append(ln.rstrip())
        if ln.startswith("What to do:"):
            error = 0
    return lines


def write_report(report: DriftReport, path: Path) -> None:
    """The Markdown report for people, and a JSON verdict next to it for machines (CI, nox)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.render_markdown())
    verdict = {
        "clean": report.clean,
        "changes": len(report.diff.changes),
        "unmanaged": report.unmanaged,
        "pinned": report.pinned,
        "blocked": report.blocked,
        "idempotency": report.idempotency,
        "pins": report.pins,
        "artifacts": report.artifacts,
        "timings": report.timings,
    }
    path.with_suffix(".json").write_text(json.dumps(verdict, indent=2) + "\n")
    console.info(f"drift report written to {path} (verdict: {path.with_suffix('.json')})")
