"""Course import and export end to end: files ⇄ course documents ⇄ Directus.

Import: read every file and check it (with the event's radius defaults) → refuse with every
problem if any, writing nothing → plan against the rows in Directus → write the plan (or, dry run,
only show it). One GPX file is one stage; several files import several stages in one run.
Export: read a stage from Directus → OpenRally GPX v1.0.3, checked by reading it back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import console
from ..directus.api import Directus
from ..errors import CourseError
from . import load, remote, segments, validate, writer
from . import plan as plan_mod
from .stage import Stage

SYMBOL = {"create": "+", "update": "~", "delete": "-"}


@dataclass
class Report:
    event: str
    plan: plan_mod.Plan
    dry_run: bool
    files: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    def render(self, *, items: bool | None = None) -> str:
        """Files, counts per collection, then the items (dry run: all; otherwise updates and deletes)."""
        lines = [*self.files, f"  {'collection':<18} {'create':>7} {'update':>7} {'delete':>7} {'unchanged':>10}"]
        counts = self.plan.counts()
        for name, c in counts.items():
            lines.append(f"  {name:<18} {c['create']:>7} {c['update']:>7} {c['delete']:>7} {c['unchanged']:>10}")
        show = ("create", "update", "delete") if (self.dry_run if items is None else items) else ("update", "delete")
        for op in self.plan.steps:
            if op.action in show:
                detail = f": {', '.join(op.changed)}" if op.changed else ""
                lines.append(f"  {SYMBOL[op.action]} {op.collection} {op.label}{detail}")
        total = {a: sum(c[a] for c in counts.values()) for a in ("create", "update", "delete")}
        verb = "would be " if self.dry_run else ""
        summary = (
            "no changes: Directus already holds this course"
            if not self.plan.changes
            else f"{total['create']} {verb}created, {total['update']} {verb}updated, {total['delete']} {verb}deleted"
        )
        lines.append(f"{summary} ({self.requests} requests, {self.seconds:.1f}s)")
        return "\n".join(lines)


def read_files(
    paths: list[Path], stage_name: str | None, defaults: validate.Defaults, event: str, *, stage_names: list[str] | None = None
) -> tuple[list[Stage], list[str]]:
    """Stages of the files, checked; raises CourseError listing every problem of every file.

    `stage_name` names the stage of a single file (`--stage`); `stage_names` names each file's stage
    (the seed, whose stages are named in the seed file)."""
    if stage_name and len(paths) > 1:
        raise CourseError("--stage names the stage of one file", "import one file with --stage, or several without it")
    names = stage_names or [stage_name] * len(paths)
    stages, summaries, problems = [], [], []
    for path, stage_name in zip(paths, names, strict=True):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CourseError(f"cannot read {path}: {exc.strerror}", "check the path") from None
        stage, parsed = segments.read(data, str(path), stage_name)
        if parsed.readable:
            validate.resolve(stage, defaults, parsed.problems, event=f"event {event!r}")
        if any(s.name == stage.name for s in stages):
            parsed.problems.add(stage.line or 1, f"stage {stage.name!r} is also in an earlier file: one file per stage")
        problems += parsed.problems.lines()
        stages.append(stage)
        version = (parsed.namespace or "?").rsplit("/", 1)[-1]
        counts = ", ".join(f"{n} {what}" for what, n in stage.counts().items())
        skipped = f"; {parsed.skipped} roadbook-only point(s) skipped" if parsed.skipped else ""
        summaries.append(f"{path.name}: stage {stage.name!r}: {counts} (OpenRally {version}, {parsed.units}{skipped})")
    if problems:
        raise CourseError(
            f"{len(problems)} problem(s) in {', '.join(str(p) for p in paths)}; nothing was written",
            "fix every line listed above (in the file, or the event's waypoint_radius_defaults) and import again",
            details="\n".join(problems),
        )
    return stages, summaries


def import_files(
    api: Directus,
    paths: list[Path],
    event_ref: str,
    *,
    stage_name: str | None = None,
    stage_names: list[str] | None = None,
    dry_run: bool = False,
) -> Report:
    t0, r0 = time.monotonic(), api.requests
    event = remote.find_event(api, event_ref)
    defaults = remote.radius_defaults(api, event["id"])
    stages, summaries = read_files(paths, stage_name, defaults, event["slug"], stage_names=stage_names)
    have = remote.existing(api, event["id"], [s.name for s in stages])
    plan = plan_mod.build(event, stages, have)
    if not dry_run and plan.steps:
        with console.step(f"writing {plan.changes} change(s)"):
            load.apply(api, plan)
    return Report(event["slug"], plan, dry_run, summaries, api.requests - r0, time.monotonic() - t0)


def export_stage(api: Directus, event_ref: str, stage_name: str) -> tuple[str, list[str]]:
    """(GPX text, warnings): what navigation tools will not see as Directus holds it."""
    event = remote.find_event(api, event_ref)
    stage, warnings = remote.stage_document(api, event, stage_name)
    text = writer.write(stage)
    return text, [*warnings, *writer.check(stage, text, remote.radius_defaults(api, event["id"]))]
