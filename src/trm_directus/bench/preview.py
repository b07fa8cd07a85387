"""`bench preview` (issue 29): the course-edit preview on a full-size stage, and the timeline of an entry with 500 items.

Setup (not timed): a rally of 230 entries, each with a chassis tracker (the seed's synthetic event,
with a race director and a marshal); a stage starting 06:00 UTC with one special stage and a WPV
waypoint (800 m / 200 m) halfway along a 139 km route, the event's missed-waypoint rule (15 min);
1 Hz positions of every tracker over 5 hours (230 × 18,000 = 4,140,000 rows in the positions
hypertable, one INSERT … SELECT), each entry starting a minute after the previous one at 70–90 km/h
with its own lateral offset of up to 150 m; the processor's crossings of the waypoint (written from
the contract). Entry #1 gets a history of 500+ items: penalties the processor proposes (SQL) and the
race director applies (REST), notes, crew changes, faulty flags (REST): 503 items.

Timed, interleaved, as the race director: `POST /trm/course/preview` moving the waypoint 200 m east,
and its baseline, the plain `SELECT count(*)` of the stage window's positions; `GET
/trm/entries/:id/timeline` (the first page of 50, and all 500 at once), and its baseline, the race
director's REST read of the same entry with crew and devices; the timeline as the administrator (no
permission rules: what Directus's rules cost the race director's reads).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

import psycopg

from .. import console
from ..directus.api import Directus
from ..seed import synthetic
from ..stacks.native import NativeStack
from .access import PASSWORD, _p, load_with_people

SLUG = "preview-bench"
ENTRIES, SECONDS = 230, 5 * 3600
T0 = datetime(2027, 6, 7, 6, 0, tzinfo=UTC)
WAYPOINT = (20.0, 41.5)  # halfway along the route (19.5, 41.0) -> (20.5, 42.0)
MOVED = (20.0 + 200 / (111_320 * 0.7489), 41.5)  # 200 m east (cos 41.5° = 0.7489)
PEOPLE = {"race-director": "rd.preview@example.com", "marshal": "marshal.preview@example.com"}

POSITIONS = """
INSERT INTO positions (device_id, ts, codec, latitude, longitude, altitude, angle, speed, satellites, priority)
SELECT d.imei, %(t0)s::timestamptz + make_interval(secs => t), '8E',
       41.0 + g.f + k.off * 0.6 / 111100.0, 19.5 + g.f + k.off * -0.8 / 83300.0, 300, 37, (k.v + 8 * sin(t / 30.0))::real, 12, 0
  FROM (SELECT e.race_number AS i, dv.imei FROM entries e JOIN events ev ON ev.id = e.event_id AND ev.slug = %(slug)s
          JOIN entry_devices ed ON ed.entry_id = e.id JOIN devices dv ON dv.id = ed.device_id) d
 CROSS JOIN generate_series(0, %(seconds)s - 1) AS t
 CROSS JOIN LATERAL (SELECT 70 + (d.i %% 21) AS v, ((d.i * 37) %% 301 - 150) + 5 * sin(t / 7.0) AS off) k
 CROSS JOIN LATERAL (SELECT least(1.0, greatest(0, t - (d.i - 1) * 60) * k.v / 3.6 / 138900.0) AS f) g
"""
CROSSINGS = """
INSERT INTO entry_crossings (id, entry_id, waypoint_id, ts, source, device_imei)
SELECT gen_random_uuid(), entry_id, %s, ts, 'gps', device_imei
  FROM trm_course.waypoint_crossings(%s, ARRAY[ST_SetSRID(ST_MakePoint(%s, %s), 4326)], ARRAY[800.0], ARRAY[200.0])
"""
PENALTY = """INSERT INTO entry_penalties (id, entry_id, type, seconds, status, dedupe_key)
SELECT gen_random_uuid(), %s, 'late_arrival', 60 * n, 'proposed', 'bench:' || n FROM generate_series(1, %s) n RETURNING id"""


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def setup(api: Directus, dsn: str) -> dict[str, Any]:
    load_with_people(api, synthetic.event(entries=ENTRIES, slug=SLUG), PEOPLE)
    [event] = api.get("/items/events", filter={"slug": {"_eq": SLUG}}, fields="id")
    stage = api.post("/items/stages", {"event_id": event["id"], "name": "Stage 1", "sort_order": 1, "starts_at": T0.isoformat()})
    segment = api.post("/items/segments", {"stage_id": stage["id"], "sort_order": 1, "type": "special-stage"})
    waypoint = api.post(
        "/items/waypoints",
        {"segment_id": segment["id"], "code": "WP3", "type": "WPV", "location": point(*WAYPOINT), "sort_order": 3,
         "open_radius_m": 800, "validation_radius_m": 200},
    )  # fmt: skip
    api.post("/items/penalty_formulas", {"event_id": event["id"], "type": "missed_waypoint", "penalty_seconds": 900})
    api.patch(f"/items/stages/{stage['id']}", {"status": "open"})  # it runs (no entry is scrutineered: no start list)
    step = f"{ENTRIES * SECONDS:,} positions (1 Hz, 5 h, {ENTRIES} trackers) into the hypertable"
    with console.step(step), psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(POSITIONS, {"t0": T0, "slug": SLUG, "seconds": SECONDS})
        conn.execute("VACUUM ANALYZE positions")
        conn.execute(CROSSINGS, (waypoint["id"], stage["id"], *WAYPOINT))
    entries = api.get("/items/entries", filter={"event_id": {"_eq": event["id"]}}, fields="id,race_number", limit=-1)
    first = next(e["id"] for e in entries if e["race_number"] == 1)
    return {"event": event["id"], "stage": stage["id"], "waypoint": waypoint["id"], "entry": first}


def history(api: Directus, people: dict[str, Directus], dsn: str, w: dict[str, Any]) -> None:
    """500+ items of entry #1 (3 from the seed): 100 penalties proposed (SQL) and applied (REST), 100 notes, 75 crew
    members added and removed, 50 faulty flags."""
    rd, entry = people["race-director"], w["entry"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        penalties = [r[0] for r in conn.execute(PENALTY, (entry, 100)).fetchall()]
    for p in penalties:
        rd.patch(f"/items/entry_penalties/{p}", {"status": "applied"})
    for n in range(100):
        rd.patch(f"/items/entries/{entry}", {"notes": f"scrutineering note {n}"})
    [user] = api.get("/users", filter={"email": {"_eq": PEOPLE["marshal"]}}, fields="id")
    for _ in range(75):  # as the administrator: a race director's create of a part of the 101st+ entry is refused
        # (Directus expands `$CURRENT_USER.memberships…events.entries.id` in the create validation to 100 ids)
        row = api.post("/items/entry_crew", {"entry_id": entry, "user_id": user["id"], "role": "mechanic"})
        api.delete(f"/items/entry_crew/{row['id']}")
    [device] = api.get("/items/entry_devices", filter={"entry_id": {"_eq": entry}}, fields="device_id.imei")
    for n in range(50):
        start = T0.replace(hour=7, minute=n % 60)
        window = {"from": start.isoformat(), "to": start.replace(second=30).isoformat()}
        people["marshal"].post("/trm/positions/faulty", {"imei": device["device_id"]["imei"], **window, "reason": f"bench {n}"})


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench(repeat: int = 3) -> dict[str, Any]:
    with NativeStack(from_template=True) as stack:
        api = Directus(stack.url, stack.info.admin_token)
        with console.step("preview bench setup (230 entries, a stage of 4.1 M positions, an entry with 500 history items)"):
            w = setup(api, stack.info.dsn)
            people = {role: Directus.login(stack.url, email, PASSWORD) for role, email in PEOPLE.items()}
            history(api, people, stack.info.dsn, w)
        rd = people["race-director"]
        body = {"collection": "waypoints", "id": w["waypoint"], "changes": {"location": point(*MOVED)}}
        answer = rd.post("/trm/course/preview", body)
        window = (answer["stages"][0]["window_start"], answer["stages"][0]["window_end"])
        timeline = rd.get(f"/trm/entries/{w['entry']}/timeline", limit=1)
        if timeline["total"] < 500:
            raise RuntimeError(f"entry #1 has {timeline['total']} history items, not 500: the setup is wrong")
        count_sql = "SELECT count(*) FROM positions WHERE ts >= %s AND ts < %s"
        runs: dict[str, list[float]] = {k: [] for k in ("preview", "count", "timeline", "timeline500", "admin", "entry")}
        entry_query = {"fields": "id,race_number,status,notes,crew.role,crew.user_id.first_name,devices.device_id.imei"}
        with psycopg.connect(stack.info.dsn, autocommit=True) as conn:
            positions = conn.execute(count_sql, window).fetchone()[0]
            for _ in range(max(repeat, 1) * 7):
                runs["preview"].append(_timed(lambda: rd.post("/trm/course/preview", body)))
                runs["count"].append(_timed(lambda: conn.execute(count_sql, window).fetchone()))
            for _ in range(max(repeat, 1) * 35):
                runs["timeline"].append(_timed(lambda: rd.get(f"/trm/entries/{w['entry']}/timeline", limit=50)))
                runs["timeline500"].append(_timed(lambda: rd.get(f"/trm/entries/{w['entry']}/timeline", limit=500)))
                runs["admin"].append(_timed(lambda: api.get(f"/trm/entries/{w['entry']}/timeline", limit=50)))
                runs["entry"].append(_timed(lambda: rd.get(f"/items/entries/{w['entry']}", **entry_query)))
    console.out(f"preview: {answer['summary']} ({positions:,} positions in the window {window[0]} – {window[1]})")
    out = {
        "preview_positions": positions,
        "preview_entries_affected": answer["totals"]["entries_affected"],
        "timeline_items": timeline["total"],
        "preview_load_average": os.getloadavg()[0],
        "preview_p50_s": _p(runs["preview"], 0.5) / 1000,
        "preview_p95_s": _p(runs["preview"], 0.95) / 1000,
        "preview_count_p50_s": _p(runs["count"], 0.5) / 1000,
        "preview_count_p95_s": _p(runs["count"], 0.95) / 1000,
        "timeline_p50_ms": _p(runs["timeline"], 0.5),
        "timeline_p95_ms": _p(runs["timeline"], 0.95),
        "timeline_500_p95_ms": _p(runs["timeline500"], 0.95),
        "timeline_admin_p95_ms": _p(runs["admin"], 0.95),
        "timeline_entry_read_p95_ms": _p(runs["entry"], 0.95),
        "preview_all": runs["preview"],
    }
    out["preview_ratio"] = out["preview_p95_s"] / out["preview_count_p95_s"]
    out["timeline_ratio"] = out["timeline_p95_ms"] / out["timeline_entry_read_p95_ms"]
    return out
