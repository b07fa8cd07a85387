"""The import plan: natural-key diff and an order of writes that never breaks a unique or foreign key.

The plan is a pure function of the files and the rows read from Directus; here the rows are built
from a course document as an import would have left them, and the plan's steps are replayed on
them, checking the database's rules after every single row (a batch PATCH is applied row by row).
The same scenarios run against a real Directus in tests/integration/test_course_import.py.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools

from trm_directus.course import plan, synthetic
from trm_directus.course.remote import Existing
from trm_directus.course.stage import Stage, Waypoint

EVENT = {"id": "event-1", "slug": "synthetic-rally"}
_ids = itertools.count(1)


def rows_of(stages: list[Stage]) -> Existing:
    """The rows an import of `stages` leaves in Directus."""
    p = plan.build(EVENT, stages, Existing())
    db = Db()
    db.replay(p)
    return db.existing(EVENT["id"])


class Db:
    """Rows by collection and id, with the rules of the course model's SQL constraints."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, dict]] = {c: {} for c in plan.COLLECTIONS}

    def replay(self, p: plan.Plan, existing: Existing | None = None) -> None:
        ids = dict(p.ids)
        resolve = lambda v: ids[v] if isinstance(v, plan.Ref) else v  # noqa: E731
        for op in p.steps:
            table = self.rows[op.collection]
            if op.action == "create":
                row = {k: resolve(v) for k, v in op.payload.items()}
                row["id"] = f"{op.collection}-{next(_ids)}"
                table[row["id"]] = row
                ids[plan.Ref(op.collection, op.key)] = row["id"]
            elif op.action == "delete":
                del table[op.payload["id"]]
            else:
                row = table[resolve(op.payload["id"])]
                row.update({k: resolve(v) for k, v in op.payload.items() if k != "id"})
            self.check()

    def check(self) -> None:
        wps = self.rows["waypoints"].values()
        for key in (("segment_id", "sort_order"), ("segment_id", "code")):
            values = [tuple(w[k] for k in key) for w in wps]
            assert len(values) == len(set(values)), f"unique {key} broken"
        segs = self.rows["segments"]
        assert all(w["segment_id"] in segs for w in wps), "waypoint of a missing segment"
        for z in self.rows["speed_limit_zones"].values():
            dz, fz = self.rows["waypoints"][z["starts_at_waypoint_id"]], self.rows["waypoints"][z["ends_at_waypoint_id"]]
            assert dz["type"] == "DZ" and fz["type"] == "FZ", "zone endpoints must be DZ and FZ"
            assert dz["segment_id"] == z["segment_id"] == fz["segment_id"], "zone and its DZ/FZ in one segment"

    def existing(self, event_id: str) -> Existing:
        out = Existing()
        stages = [s for s in self.rows["stages"].values() if s["event_id"] == event_id]
        out.max_sort_order = max((s["sort_order"] for s in stages), default=-1)
        out.stages = {s["name"]: copy.deepcopy(s) for s in stages}
        for seg in self.rows["segments"].values():
            out.segments[(seg["stage_id"], seg["sort_order"])] = copy.deepcopy(seg)
            out.segment_by_id[seg["id"]] = out.segments[(seg["stage_id"], seg["sort_order"])]
        for w in self.rows["waypoints"].values():
            out.waypoints[(out.segment_by_id[w["segment_id"]]["stage_id"], w["code"])] = copy.deepcopy(w)
            out.waypoint_by_id[w["id"]] = w
        for z in self.rows["speed_limit_zones"].values():
            dz = self.rows["waypoints"][z["starts_at_waypoint_id"]]
            out.zones[(out.segment_by_id[z["segment_id"]]["stage_id"], dz["code"])] = copy.deepcopy(z)
        return out


def course() -> list[Stage]:
    return synthetic.rally(stages=2, total_km=300, waypoints=40, seed=3)


def replan(db: Db, stages: list[Stage]) -> plan.Plan:
    p = plan.build(EVENT, stages, db.existing(EVENT["id"]))
    db.replay(p)
    return p


def fresh() -> tuple[Db, list[Stage]]:
    db, stages = Db(), course()
    first = replan(db, stages)
    assert first.counts()["waypoints"]["create"] == sum(s.counts()["waypoints"] for s in stages)
    return db, stages


def test_a_fresh_import_creates_everything_in_dependency_order():
    stages = course()
    p = plan.build(EVENT, stages, Existing())
    counts = p.counts()
    assert counts["stages"]["create"] == 2 and counts["segments"]["create"] == sum(len(s.segments) for s in stages)
    assert counts["speed_limit_zones"]["create"] == sum(s.counts()["speed zones"] for s in stages)
    order = [c for c, _ in itertools.groupby(op.collection for op in p.steps)]
    assert order == ["stages", "segments", "waypoints", "speed_limit_zones"]
    assert [op.payload["sort_order"] for op in p.steps if op.collection == "stages"] == [0, 1]


def test_the_same_course_again_changes_nothing():
    db, stages = fresh()
    again = replan(db, course())
    assert again.changes == 0 and again.steps == []
    assert again.unchanged["waypoints"] == sum(s.counts()["waypoints"] for s in stages)


def test_a_waypoint_inserted_mid_segment_shifts_the_rest_without_a_collision():
    db, stages = fresh()
    seg = stages[0].segments[1]
    a, b = seg.waypoints[2], seg.waypoints[3]
    seg.waypoints.insert(3, Waypoint("NEW", "WPC", (a.lon + b.lon) / 2, (a.lat + b.lat) / 2, 1000, 90, a.distance_km))
    p = replan(db, stages)
    counts = p.counts()["waypoints"]
    assert (counts["create"], counts["update"], counts["delete"]) == (1, len(seg.waypoints) - 4, 0)
    assert any(op.action == "place" for op in p.steps)  # shifted rows were parked, then placed
    assert replan(db, stages).changes == 0


def test_a_removed_waypoint_and_zone_are_deleted_after_what_referenced_them():
    db, stages = fresh()
    seg = next(s for s in stages[1].segments if s.zones)
    zone = seg.zones.pop(0)
    seg.waypoints = [w for w in seg.waypoints if w.code not in (zone.dz, zone.fz)]
    p = replan(db, stages)  # Db.check() would fail on a zone outliving its DZ or a position taken twice
    assert {(op.collection, op.action) for op in p.steps if op.action == "delete"} == {
        ("speed_limit_zones", "delete"),
        ("waypoints", "delete"),
    }
    assert p.counts()["waypoints"]["delete"] == 2


def test_a_dss_moved_later_moves_waypoints_between_segments_in_place():
    db, stages = fresh()
    liaison, special = stages[0].segments[0], stages[0].segments[1]
    dss = special.waypoints.pop(0)
    liaison.waypoints.append(special.waypoints.pop(0))  # the first WP now belongs to the liaison
    special.waypoints.insert(0, dataclasses.replace(dss, lon=liaison.waypoints[-1].lon + 0.01))
    before_ids = {w["code"]: w["id"] for w in db.rows["waypoints"].values()}
    p = replan(db, stages)
    assert p.counts()["waypoints"]["delete"] == 0 and p.counts()["waypoints"]["create"] == 0
    after_ids = {w["code"]: w["id"] for w in db.rows["waypoints"].values()}
    assert after_ids == before_ids  # same rows, ids kept


def test_a_zone_whose_segment_changes_is_recreated_not_half_moved():
    db, stages = fresh()
    first, special = stages[0].segments[0], stages[0].segments[1]
    # the liaison's village zone now opens the special stage: the DSS comes before it
    zone_wps = [w for w in first.waypoints if w.type in ("DZ", "FZ")]
    first.waypoints = [w for w in first.waypoints if w not in zone_wps]
    special.waypoints[1:1] = zone_wps
    special.zones.insert(0, first.zones.pop(0))
    p = replan(db, stages)
    actions = [(op.collection, op.action) for op in p.steps if op.collection == "speed_limit_zones"]
    assert actions == [("speed_limit_zones", "delete"), ("speed_limit_zones", "create")]
    assert replan(db, stages).changes == 0


def test_fewer_segments_deletes_the_trailing_ones_last():
    db, stages = fresh()
    last = stages[0].segments.pop()
    stages[0].segments[-1].waypoints.extend(last.waypoints)
    stages[0].segments[-1].zones.extend(last.zones)
    p = replan(db, stages)
    assert p.steps[-1].collection == "segments" and p.steps[-1].action == "delete"
    assert replan(db, stages).changes == 0
