"""The upgrade gate (`nox -s upgrade`): the working tree's artifacts booted on a database that a base ref built.

The drift gate proves the artifacts build a correct *fresh* database; production never has one.
This gate plays the deploy of the working tree over the previous release:
1. resolve the base ref (default: the merge base of HEAD with main) and check it out into a
   temporary git worktree (baseref.py);
2. boot the base's artifacts on a fresh native stack with the base's own toolchain (every
   entrypoint step: its db-init, its bootstrap, its guarded schema apply, its Directus pin);
3. seed Rally Albania and the second club with the base's own seed command and files, then write
   race-day rows the processor's way: positions, crossings, penalties, results (race_data.py);
4. count the rows and checksum the values of every collection and db-init table (rowsums.py);
5. boot the working tree's artifacts on that same database (same PostgreSQL cluster): every step
   must pass; the schema step's output (the guard's report) is printed; a refused or failed boot
   is a finding, reported by its step and our own error lines;
6. count and checksum again: no row lost or changed, unless the working tree's snapshot was
   explicitly allowed its destructive changes (`--allow-destructive TOKEN`, the guard's one-run
   token): then the changes are listed, not failed;
7. on the upgraded database, the drift gate's checks (drift.py steps 2-6: the round trip, no
   unknown or pinned columns, an idempotent second boot).
Exit 0 pass, 2 findings (report on stdout, Markdown in reports/upgrade.md, verdict beside it), 1 error.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from .. import console
from ..db import rowsums
from ..errors import StackError, UpgradeError
from ..schema import apply, snapshot
from ..stacks.native import NativeStack
from . import baseref, drift, race_data

SEEDS = ("rally-albania-2026.yaml", "adriatic-trail-club.yaml")  # each one the base has
STEP3 = "[entrypoint] 3/5"
DB_INIT = ("db-init pre:", "db-init post:")


@dataclass
class UpgradeReport:
    base: str = ""
    filled: list[str] = field(default_factory=list)  # what the base's database holds before the upgrade
    guard: list[str] = field(default_factory=list)  # the upgrade boot's schema step (3/5) output
    data: list[str] = field(default_factory=list)  # per table: rows, and what changed
    problems: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)  # data changes the snapshot's token allowed
    round_trip: drift.DriftReport | None = None  # the drift gate's checks on the upgraded database
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems and self.round_trip is not None and self.round_trip.clean

    def sections(self) -> list[tuple[str, list[str]]]:
        return [
            ("the base's database before the upgrade", self.filled),
            ("the upgrade boot: db-init and the schema step (the guard's report)", self.guard or ["(no output)"]),
            ("rows and values per table, before → after the upgrade boot", self.data),
            ("data changes allowed by the snapshot's token", self.allowed),
            ("PROBLEMS", self.problems),
        ]

    def render_text(self) -> str:
        lines = [f"upgrade gate: {'PASS' if self.passed else 'FAIL'} (base {self.base} → the working tree)"]
        for title, items in self.sections():
            if items:
                lines += [f"{title}:", *(f"  {i}" for i in items)]
        if self.round_trip is not None:
            lines += [
                "on the upgraded database, the drift gate's checks:",
                *("  " + ln for ln in self.round_trip.render_text().splitlines()),
            ]
        lines.append("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()))
        return "\n".join(lines)

    def render_markdown(self) -> str:
        out = [f"# Upgrade gate: {'pass ✅' if self.passed else 'failed ❌'}", "", f"Base `{self.base}` → the working tree.", ""]
        for title, items in self.sections():
            if items:
                out += [f"## {title[0].upper()}{title[1:]}", "", "```", *items, "```", ""]
        if self.round_trip is not None:
            out += ["## On the upgraded database: the drift gate's checks", "", "```", self.round_trip.render_text(), "```", ""]
        out.append("Timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items()))
        return "\n".join(out) + "\n"


def gate(repo: Path, base_ref: str | None = None, *, allow: str | None = None) -> UpgradeReport:
    report = UpgradeReport()
    t0 = time.monotonic()
    commit, how = baseref.resolve(repo, base_ref)
    report.base = f"{baseref.describe(repo, commit)} ({how})"
    console.info(f"upgrade gate: base {report.base} → working tree {repo}")
    with baseref.checkout(repo, commit) as base:
        console.info(f"boot #1: the base's artifacts and toolchain ({commit[:12]}) on a fresh stack")
        with NativeStack(tree=base) as stack:
            lap = _laps(report, t0, "base checkout and boot")
            fill(stack, base, report)
            lap("seeds and race data")
            owned = snapshot.owned_tables(base / "db-init") | snapshot.owned_tables(repo / "db-init")
            with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
                before = rowsums.measure(conn, owned)
            booted = upgrade_boot(stack, repo, allow, report)
            lap("upgrade boot")
            with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
                after = rowsums.measure(conn, owned, {name: t.columns for name, t in before.items()})
            report.data, changed = rowsums.compare(before, after)
            (report.allowed if allow else report.problems).extend(changed)
            if booted:
                stack.extra_env.pop(apply.ALLOW_DESTRUCTIVE, None)
                report.round_trip = drift.gate(repo / "snapshots" / "schema.yaml", repo / "db-init", root=repo, stack=stack)
                lap("round trip and second boot (drift checks)")
    report.timings["total"] = time.monotonic() - t0
    return report


def _laps(report: UpgradeReport, t0: float, first: str):
    """Record the time since the previous lap under a name (the first lap starts at t0)."""
    last = [t0]

    def lap(name: str) -> None:
        now = time.monotonic()
        report.timings[name] = now - last[0]
        last[0] = now

    lap(first)
    return lap


def fill(stack: NativeStack, base: Path, report: UpgradeReport) -> None:
    """Seed with the base's own command and files, then write the processor's race-day rows."""
    target = ["--against", stack.url]  # the token in the environment (DIRECTUS_TOKEN), never on a command line
    for name in SEEDS:
        path = base / "seeds" / name
        if not path.exists():
            report.filled.append(f"seed {name}: not in the base, skipped")
            continue
        result = baseref.run_cli(base, "seed", str(path), *target, env={"DIRECTUS_TOKEN": stack.info.admin_token})
        summary = [ln for ln in result.stdout.splitlines() if ln.strip()]
        report.filled.append(f"seed {name} (the base's seed command): {summary[-1] if summary else 'loaded'}")
    try:
        written = race_data.write(stack.info.dsn)
    except psycopg.Error as exc:
        raise UpgradeError(
            f"the race-day rows could not be written to the base's database: {str(exc).strip().splitlines()[0]}",
            "the base's timing tables differ from the processor contract gates/race_data.py writes: pass a later --base",
        ) from None
    report.filled.append("race data (the processor's SQL): " + ", ".join(f"{t} {n}" for t, n in written.items()))


def upgrade_boot(stack: NativeStack, repo: Path, allow: str | None, report: UpgradeReport) -> bool:
    """Boot the working tree on the base's database; False (and the failure as a problem) when it fails."""
    stack.stop_directus()
    stack.use_tree(repo)
    if allow:
        stack.extra_env[apply.ALLOW_DESTRUCTIVE] = allow
    # The schema step always diffs and guards (no fast path), even when the snapshot did not change.
    stack.extra_env[apply.FORCE_FULL] = "true"
    try:
        stack.boot()
        ok = True
    except StackError as exc:
        failure = drift.boot_failure(stack, exc, "upgrade boot (the working tree on the base's database)")
        if any(ln.lstrip().startswith("DESTRUCTIVE") for ln in failure):
            failure.append("(destructive changes that are intended and reviewed: --allow-destructive TOKEN, named above)")
        report.problems += failure
        ok = False
    stack.extra_env.pop(apply.FORCE_FULL, None)
    report.guard = boot_summary(stack.boot_output())
    return ok


def boot_summary(log: str, limit: int = 80) -> list[str]:
    """What the boot's steps did, in boot order: the db-init summaries, and all the schema step (3/5)
    printed — its diff, the guard's report, its verdict."""
    out: list[str] = []
    step: list[str] | None = None
    for ln in [*log.splitlines(), "[entrypoint] (end of log)"]:
        if step is None and ln.startswith(STEP3):  # the step's start; its end is the next marker ("… done in")
            step = []
        elif step is not None and ln.startswith("[entrypoint] "):
            step += [ln] if "FAILED" in ln else []
            more = [f"… {len(step) - limit} more lines in the boot log"] if len(step) > limit else []
            out += ["schema step (3/5):", *(f"  {s}" for s in step[:limit]), *more]
            step = None
        elif step is not None:
            step.append(ln.rstrip())
        elif ln.startswith(DB_INIT):
            out.append(ln)
    return out


def write_report(report: UpgradeReport, path: Path) -> None:
    """The Markdown report for people, and a JSON verdict next to it for machines (CI, nox)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.render_markdown())
    verdict = {
        "passed": report.passed,
        "base": report.base,
        "problems": report.problems,
        "allowed": report.allowed,
        "drift_clean": report.round_trip.clean if report.round_trip is not None else None,
        "timings": report.timings,
    }
    path.with_suffix(".json").write_text(json.dumps(verdict, indent=2) + "\n")
    console.info(f"upgrade report written to {path} (verdict: {path.with_suffix('.json')})")
