"""Race-day rows the processor writes — positions, crossings, penalties, results — written its way (SQL).

For the upgrade gate and tests that need a database that has lived through a race: on the first
stage (by sort order) of every seeded event, each entry's devices report positions, each entry
crosses every waypoint of the stage, gets a proposed penalty and an elapsed time, and the lowest
race number of each event an applied penalty (reviewed by the first user). Set-based statements on
the columns of the processor contract (db-init/README.md), idempotent (ON CONFLICT), so a base
ref's schema takes them as long as that contract holds.
"""

from __future__ import annotations

import psycopg

FIRST_STAGE = """
    SELECT st.id, coalesce(st.starts_at, ev.starts_at) AS starts_at
      FROM stages st JOIN events ev ON ev.id = st.event_id
     WHERE st.event_id = e.event_id ORDER BY st.sort_order LIMIT 1
"""
STATEMENTS = {
    "positions": f"""
INSERT INTO positions (device_id, ts, codec, latitude, longitude, altitude, angle, speed, satellites, priority)
SELECT d.imei, st.starts_at + make_interval(secs => 10 * n), '8E', 41.3 + n * 0.0005, 19.8 + n * 0.0005,
       120, 90, 40 + mod(n, 50), 12, 0
  FROM entry_devices ed JOIN devices d ON d.id = ed.device_id JOIN entries e ON e.id = ed.entry_id
  JOIN LATERAL ({FIRST_STAGE}) st ON true
 CROSS JOIN generate_series(0, %(positions)s - 1) AS n
ON CONFLICT (device_id, ts) DO NOTHING
""",
    "entry_crossings": f"""
INSERT INTO entry_crossings (id, entry_id, waypoint_id, ts, source, device_imei)
SELECT gen_random_uuid(), e.id, w.id,
       st.starts_at + make_interval(secs => 60 * (s.sort_order * 100 + w.sort_order) + e.race_number), 'gps', NULL
  FROM entries e JOIN LATERAL ({FIRST_STAGE}) st ON true
  JOIN segments s ON s.stage_id = st.id JOIN waypoints w ON w.segment_id = s.id
ON CONFLICT (entry_id, waypoint_id, ts) DO NOTHING
""",
    "entry_penalties": f"""
INSERT INTO entry_penalties (id, entry_id, stage_id, type, seconds, status, reviewed_by, inputs, dedupe_key)
SELECT gen_random_uuid(), e.id, st.id, p.type, p.seconds, p.status,
       CASE WHEN p.status = 'applied' THEN (SELECT id FROM directus_users ORDER BY email LIMIT 1) END,
       '{{"source": "upgrade gate"}}'::json, 'race-data:' || p.type || ':' || st.id
  FROM entries e JOIN LATERAL ({FIRST_STAGE}) st ON true
 CROSS JOIN (VALUES ('missed_waypoint', 900, 'proposed'), ('speeding', 60, 'applied')) AS p(type, seconds, status)
 WHERE p.status = 'proposed' OR e.race_number = (SELECT min(race_number) FROM entries x WHERE x.event_id = e.event_id)
ON CONFLICT (entry_id, dedupe_key) DO NOTHING
""",
    "stage_results": f"""
INSERT INTO stage_results (id, entry_id, stage_id, elapsed_seconds)
SELECT gen_random_uuid(), e.id, st.id, 3600 + e.race_number * 37
  FROM entries e JOIN LATERAL ({FIRST_STAGE}) st ON true
ON CONFLICT (entry_id, stage_id) DO NOTHING
""",
}


def write(dsn: str, positions: int = 30) -> dict[str, int]:
    """Rows written per table (0 everywhere when run a second time), in one transaction."""
    with psycopg.connect(dsn) as conn, conn.transaction():
        return {table: conn.execute(sql, {"positions": positions}).rowcount for table, sql in STATEMENTS.items()}
