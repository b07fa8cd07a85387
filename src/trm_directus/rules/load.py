"""Load a validated rules file into one event through Directus's REST API, by natural keys, all or nothing.

Targets are resolved first (stage by name, segment by sort order in its stage, waypoint by code and
speed zone by name in their segment); an unknown one is a problem with file:line and nothing is
written. Then, with the seed's Loader (one GET, at most one batch write per collection, undo on
failure): radius defaults as a seed's; formulas per rule — a rule whose brackets are the same is
updated in place, a rule whose brackets changed is replaced: its current rows are superseded
(superseded_at set, disabled, kept as they were: penalties computed from them keep their
formula_id and the values behind it, db-init/post/113), then the new ones are created with ids
chosen here, so an undo deletes exactly them and un-supersedes the old rows (same ids as before);
maximum times onto the segments. Rules and segments in the database but not in the file are left
alone. A second run changes nothing.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from .. import console, signals
from ..course import radius_defaults
from ..directus.api import Directus
from ..directus.writer import Counts, Loader, Report, Spec, same
from ..documents.validation import fmt_path
from ..errors import RulesError, TrmError
from .rules_file import Rule, RulesDoc, raise_problems

FORMULAS = Spec(
    "penalty_formulas",
    "/items/penalty_formulas",
    ("event_id", "type", "belongs_to_type", "belongs_to_id", "waypoint_type", "offence_min"),
    ("offence_max", "operator", "penalty_seconds", "placeholder", "retroactive", "enabled", "note"),
)
SEGMENTS = Spec("segments", "/items/segments", ("stage_id", "sort_order"), ("max_duration_seconds", "target_duration_seconds"))
RULE_KEY = ("type", "belongs_to_type", "belongs_to_id", "waypoint_type")


def find_event(api: Directus, slug: str, org: str | None = None) -> str:
    """The id of event `slug` (of organisation `org` when the slug is not unique)."""
    filter_: dict[str, Any] = {"slug": {"_eq": slug}}
    if org:
        filter_["organization_id"] = {"slug": {"_eq": org}}
    found = api.get("/items/events", filter=filter_, fields="id,organization_id.slug", limit=-1)
    if not found:
        raise RulesError(
            f"no event {slug!r}{f' in organisation {org!r}' if org else ''} in {api.url}", "seed or create the event first"
        )
    if len(found) > 1:
        orgs = ", ".join(sorted(e["organization_id"]["slug"] for e in found))
        raise RulesError(f"event slug {slug!r} exists in several organisations ({orgs})", "pass --org SLUG")
    return found[0]["id"]


class Resolver:
    """Natural keys of a rules file -> ids within one event, fetched once per kind."""

    def __init__(self, api: Directus, event_id: str, planned: set[str] | frozenset[str] = frozenset()) -> None:
        self.api = api
        self.event_id = event_id
        self.planned = planned  # stage names a seed dry run would create
        self.new = str(event_id).startswith("new:")  # a seed dry run: the event does not exist yet
        self._stages: dict[str, str] | None = None  # fetched when a rule names a stage (event-level rules cost no GET)
        self._segments: dict[tuple[str, int], dict[str, Any]] | None = None
        self._children: dict[str, dict[tuple[str, str], str]] = {}

    def segments(self) -> dict[tuple[str, int], dict[str, Any]]:
        if self._segments is None:
            rows = (
                []
                if self.new
                else self.api.get(
                    "/items/segments",
                    filter={"stage_id": {"event_id": {"_eq": self.event_id}}},
                    fields="id,stage_id,sort_order,max_duration_seconds,target_duration_seconds",
                    limit=-1,
                )
            )
            self._segments = {(s["stage_id"], s["sort_order"]): s for s in rows}
        return self._segments

    def children(self, collection: str, key: str) -> dict[tuple[str, str], str]:
        if collection not in self._children:
            rows = (
                []
                if self.new
                else self.api.get(
                    f"/items/{collection}",
                    filter={"segment_id": {"stage_id": {"event_id": {"_eq": self.event_id}}}},
                    fields=f"id,segment_id,{key}",
                    limit=-1,
                )
            )
            self._children[collection] = {(r["segment_id"], r[key]): r["id"] for r in rows if r.get(key)}
        return self._children[collection]

    @property
    def stages(self) -> dict[str, str]:
        if self._stages is None:
            rows = (
                []
                if self.new
                else self.api.get("/items/stages", filter={"event_id": {"_eq": self.event_id}}, fields="id,name", limit=-1)
            )
            self._stages = {s["name"]: s["id"] for s in rows}
        return self._stages

    def stage(self, name: str) -> str:
        if name in self.stages:
            return self.stages[name]
        if self.new or name in self.planned:
            return f"new:stage:{name}"
        known = ", ".join(sorted(self.stages)) or "none"
        raise LookupError(f"unknown stage {name!r} in this event (known: {known})")

    def segment(self, stage: str, sort_order: int) -> dict[str, Any]:
        seg = self.segments().get((self.stage(stage), sort_order))
        if seg is None:
            raise LookupError(f"stage {stage!r} has no segment with sort order {sort_order} (import its course first)")
        return seg

    def target(self, rule: Rule) -> str | None:
        """The id the rule is attached to (None for the event)."""
        at = rule.at
        if not at:
            return None
        if "segment" not in at:
            return self.stage(at["stage"])
        seg = self.segment(at["stage"], at["segment"])["id"]
        for name, collection, key in (("waypoint", "waypoints", "code"), ("speed_zone", "speed_limit_zones", "name")):
            if name in at:
                found = self.children(collection, key).get((seg, at[name]))
                if found is None:
                    raise LookupError(
                        f"segment {at['segment']} of stage {at['stage']!r} has no {name.replace('_', ' ')} {at[name]!r}"
                    )
                return found
        return seg


def resolve(doc: RulesDoc, resolver: Resolver) -> tuple[list[tuple[Rule, str | None]], list[tuple[dict, dict]]]:
    """Every rule with its target id, every maximum time with its segment; RulesError listing what is unknown."""
    problems: list[str] = []
    rules, times = [], []
    for rule in doc.rules:
        try:
            rules.append((rule, resolver.target(rule)))
        except LookupError as exc:
            problems.append(f"{doc.line((*rule.path, 'at'))}: {fmt_path((*rule.path, 'at'))}: {exc}")
    for m in doc.maximum_times:
        try:
            times.append((m, resolver.segment(m["stage"], m["segment"])))
        except LookupError as exc:
            problems.append(f"{doc.line(m['path'])}: {fmt_path(m['path'])}: {exc}")
    if problems:
        raise_problems(doc.origin, problems)
    return rules, times


def _rows(rule: Rule, event_id: str, target: str | None) -> list[dict[str, Any]]:
    base = {"event_id": event_id, "type": rule.type, "belongs_to_type": rule.kind, "belongs_to_id": target}
    return [{**base, "waypoint_type": rule.waypoint_type, **row, **rule.values} for row in rule.rows]


def sync_formulas(loader: Loader, event_id: str, rules: list[tuple[Rule, str | None]]) -> None:
    counts = loader.report.counts.setdefault("penalty_formulas", Counts())
    have: dict[tuple, list[dict[str, Any]]] = {}
    if not str(event_id).startswith("new:"):
        fields = ",".join(("id", *FORMULAS.keys, *FORMULAS.values))
        current = {"event_id": {"_eq": event_id}, "superseded_at": {"_null": True}}  # superseded rows are history
        for row in loader.api.get(FORMULAS.path, filter=current, fields=fields, limit=-1):
            have.setdefault(tuple(row[k] for k in RULE_KEY), []).append(row)
    creates, updates, supersedes = [], [], []
    for rule, target in rules:
        want = _rows(rule, event_id, target)
        old = sorted(
            have.get(tuple(want[0][k] for k in RULE_KEY), []), key=lambda r: (r["offence_min"] is not None, r["offence_min"] or 0)
        )
        if [(r["offence_min"], r["offence_max"]) for r in old] == [(r["offence_min"], r["offence_max"]) for r in want]:
            for w, h in zip(want, old, strict=True):
                changed = {f: w[f] for f in FORMULAS.values if not same(w[f], h[f])}
                if changed:
                    updates.append({"id": h["id"], **changed})
                else:
                    counts.unchanged += 1
            continue
        if old:
            console.info(f"   rule {rule.label()}: brackets changed, superseding its {len(old)} row(s) (kept, disabled)")
            supersedes += old
        creates += [{"id": str(uuid.uuid4()), **w} for w in want]  # ids known before the request: the undo's handle
    if not loader.dry_run:  # each write journaled before its request (seed/loader.py): undone whatever stops the run
        if supersedes:
            now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            loader.journal.append(
                ("updated", FORMULAS, [{"id": r["id"], "superseded_at": None, "enabled": r["enabled"]} for r in supersedes])
            )
            loader.api.patch(FORMULAS.path, [{"id": r["id"], "superseded_at": now, "enabled": False} for r in supersedes])
        if creates:
            loader.journal.append(("created", FORMULAS, creates))
            loader.api.post(FORMULAS.path, creates, fields="id")
        if updates:
            previous = {r["id"]: r for rows in have.values() for r in rows}
            loader.journal.append(
                ("updated", FORMULAS, [{"id": u["id"], **{f: previous[u["id"]][f] for f in u if f != "id"}} for u in updates])
            )
            loader.api.patch(FORMULAS.path, updates, fields="id")
    counts.created += len(creates)
    counts.updated += len(updates) + len(supersedes)


def sync_maximum_times(loader: Loader, times: list[tuple[dict, dict]]) -> None:
    counts = loader.report.counts.setdefault("segments", Counts())
    updates, previous = [], []
    for m, seg in times:
        want = {"max_duration_seconds": m["max_minutes"] * 60}
        if m.get("target_minutes") is not None:
            want["target_duration_seconds"] = m["target_minutes"] * 60
        changed = {k: v for k, v in want.items() if seg.get(k) != v}
        if changed:
            updates.append({"id": seg["id"], **changed})
            previous.append({"id": seg["id"], **{k: seg.get(k) for k in changed}})
        else:
            counts.unchanged += 1
    if updates and not loader.dry_run:
        loader.journal.append(("updated", SEGMENTS, previous))
        loader.api.patch(SEGMENTS.path, updates, fields="id")
    counts.updated += len(updates)


def write(
    loader: Loader, doc: RulesDoc, event_id: str, rules: list[tuple[Rule, str | None]], times: list[tuple[dict, dict]]
) -> None:
    """Sync radius defaults, formulas and maximum times (targets already resolved)."""
    if doc.radius_defaults:
        loader.sync(radius_defaults.SPEC, radius_defaults.rows(event_id, doc.radius_defaults))
    sync_formulas(loader, event_id, rules)
    if times:
        sync_maximum_times(loader, times)


def apply(loader: Loader, doc: RulesDoc, event_id: str, resolver: Resolver | None = None) -> None:
    """Resolve (nothing written when something is unknown), then write."""
    write(loader, doc, event_id, *resolve(doc, resolver or Resolver(loader.api, event_id)))


def import_rules(api: Directus, doc: RulesDoc, event: str, *, org: str | None = None, dry_run: bool = False) -> Report:
    """`rules-import`: one event's rules, all or nothing."""
    t0 = time.monotonic()
    start = api.requests
    loader = Loader(api, dry_run=dry_run)
    event_id = find_event(api, event, org)
    rules, times = resolve(doc, Resolver(api, event_id))
    try:
        write(loader, doc, event_id, rules, times)
    except BaseException as exc:
        raise _failed(loader, exc) from exc
    loader.report.requests = api.requests - start
    loader.report.seconds = time.monotonic() - t0
    return loader.report


def _failed(loader: Loader, exc: BaseException) -> RulesError:
    """Undo what the run wrote (shielded from a second signal), and say so after the original error."""
    if isinstance(exc, KeyboardInterrupt):
        what = f"rules import interrupted by {signals.name_of(exc)}"
    else:
        what = f"rules import failed: {exc.what if isinstance(exc, TrmError) else f'unexpected {type(exc).__name__}: {exc}'}"
    details = exc.details if isinstance(exc, TrmError) else ""
    if not loader.journal:
        return RulesError(what, "nothing was written; fix the cause and run rules-import again", details=details)
    try:
        with signals.shielded("the rules import's undo"):
            deleted, restored = loader.undo()
    except BaseException as undo_exc:
        why = undo_exc.what if isinstance(undo_exc, TrmError) else f"{type(undo_exc).__name__}: {undo_exc}"
        left = "\n".join(loader.left())
        return RulesError(
            f"{what}; undoing it failed too ({why})",
            "the rows listed are left as they are: run rules-import again once Directus answers",
            details=f"{details}\nleft in the database:\n{left}".strip(),
        )
    return RulesError(
        what,
        f"nothing is left half-applied (rolled back: {deleted} created row(s) deleted, {restored} row(s) restored); "
        "fix the cause and run rules-import again",
        details=details,
    )
