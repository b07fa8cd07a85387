"""Faults on a running stack: during a seed (SIGTERM, kill -9, an unexpected response, an undo that
fails too), and Redis going away (while Directus runs, and at boot). One stack for the module.

Each test starts from an "older" seed already loaded (the Rally Albania file with one class
renamed and no entries), so the interrupted run has both updates and creates to undo. A proxy
(faults.FaultProxy) in front of the real Directus holds or garbles one response after Directus
has written: the client is interrupted while its request is "in flight".
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml

from tests.conftest import REPO, admin_env, query, run_cli
from tests.reliability.faults import FaultProxy, Rule, clear_seed, counts, difference, seed_state
from trm_directus.directus.api import Directus
from trm_directus.errors import DirectusError, StackError
from trm_directus.seed import seed_file as document
from trm_directus.seed import verify
from trm_directus.stacks.native import health

pytestmark = [pytest.mark.integration, pytest.mark.directus]

RALLY = REPO / "seeds" / "rally-albania-2026.yaml"


@pytest.fixture(scope="module")
def older_seed(tmp_path_factory) -> str:
    data = yaml.safe_load(RALLY.read_text())
    for stage in data["events"][0].get("stages") or []:
        if stage.get("course"):  # course files are relative to the seed file: this copy lives elsewhere
            stage["course"] = str(RALLY.parent / stage["course"])
    data["events"][0]["rules"] = str(RALLY.parent / data["events"][0]["rules"])  # likewise the event's rules file
    data["events"][0]["entries"] = []
    data["events"][0]["classes"][0]["name"] += " (old name)"
    path = tmp_path_factory.mktemp("seed") / "older.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


@pytest.fixture
def start_state(stack, older_seed) -> dict[str, list[str]]:
    """The database holds the older seed, and nothing else of the seed's tables."""
    clear_seed(stack.info.dsn)
    older = seed(stack.url, stack, older_seed)
    assert older.returncode == 0, older.stderr
    return seed_state(stack.info.dsn)


@pytest.fixture
def proxy(stack):
    p = FaultProxy(stack.url)
    yield p
    p.close()


def seed(url: str, stack, path: str = str(RALLY)) -> subprocess.CompletedProcess[str]:
    return run_cli("seed", path, "--against", url, env=admin_env(stack), timeout=300)


def start_seed(url: str, stack) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "trm_directus", "seed", str(RALLY), "--against", url],
        env={**os.environ, **admin_env(stack)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def complete_seed(stack, fault_report) -> str:
    """The next, undisturbed run completes the seed: full counts and every relation as in the file."""
    t0 = time.monotonic()
    again = seed(stack.url, stack)
    assert again.returncode == 0, again.stderr
    doc = document.load(RALLY)
    state = counts(seed_state(stack.info.dsn))
    assert state == {**verify.expected_counts(doc), "directus_users": len(doc["users"])}
    assert verify.check_relations(Directus(stack.url, stack.info.admin_token), doc) == []
    return f"next seed run completed ({time.monotonic() - t0:.1f}s, counts and relations verified)"


def interrupt_in_flight(stack, proxy, sig: int) -> tuple[subprocess.CompletedProcess, float]:
    held = proxy.add(Rule("POST", "/items/entry_crew", "hold"))
    run = start_seed(proxy.url, stack)
    assert held.arrived.wait(120), "the seed never reached POST /items/entry_crew"
    t0 = time.monotonic()
    os.kill(run.pid, sig)
    out, err = run.communicate(timeout=120)
    return subprocess.CompletedProcess(run.args, run.returncode, out, err), time.monotonic() - t0


@pytest.mark.fault("SIGTERM during a seed")
def test_sigterm_during_a_seed_undoes_everything_it_wrote(stack, start_state, proxy, fault_report):
    result, took = interrupt_in_flight(stack, proxy, signal.SIGTERM)
    assert result.returncode == 1
    assert "FAILED: seeding interrupted by SIGTERM at entry_crew" in result.stderr
    # entry_crew rows were written by Directus although their response never arrived: deleted too
    assert "rolled back: 10 created row(s) deleted, 1 updated row(s) restored" in result.stderr, result.stderr
    assert seed_state(stack.info.dsn) == start_state
    fault_report.outcome = (
        f"exit 1 {took:.1f}s after SIGTERM: 'interrupted by SIGTERM at entry_crew', undo deleted 10 created rows "
        "(incl. the in-flight batch) and restored 1 update; database equal to before; " + complete_seed(stack, fault_report)
    )
    fault_report.data_lost = "none (nothing left half-applied)"


@pytest.mark.fault("kill -9 during a seed")
def test_kill_9_during_a_seed_leaves_a_partial_seed_that_the_next_run_completes(stack, start_state, proxy, fault_report):
    result, _ = interrupt_in_flight(stack, proxy, signal.SIGKILL)
    assert result.returncode == -signal.SIGKILL
    left = difference(start_state, seed_state(stack.info.dsn))
    assert "entries +4/-0" in left and "entry_crew +6/-0" in left  # no undo is possible after kill -9
    fault_report.outcome = f"no undo possible: left {left}; " + complete_seed(stack, fault_report)
    fault_report.data_lost = "none (rows added, none removed; the rerun completed the seed)"


@pytest.mark.fault("unexpected response during a seed")
def test_an_unexpected_response_is_undone_like_an_error(stack, start_state, proxy, fault_report):
    proxy.add(Rule("POST", "/items/entries", "garble", body=b'{"data": {"unexpected": "shape"}}'))
    result = seed(proxy.url, stack)
    assert result.returncode == 1
    assert "FAILED: seeding failed at entries: unexpected TypeError" in result.stderr, result.stderr
    assert "rolled back: 4 created row(s) deleted, 1 updated row(s) restored" in result.stderr
    assert "Traceback" not in result.stderr
    assert seed_state(stack.info.dsn) == start_state
    fault_report.outcome = (
        "200 with a body of the wrong shape after Directus wrote 4 entries: exit 1 'unexpected TypeError', undo deleted "
        "them (found by natural key) and restored 1 update; " + complete_seed(stack, fault_report)
    )
    fault_report.data_lost = "none (nothing left half-applied)"


@pytest.mark.fault("seed undo fails too")
def test_when_the_undo_fails_too_the_original_error_is_kept_and_what_was_left_is_listed(stack, start_state, proxy, fault_report):
    proxy.add(Rule("POST", "/items/entries", "garble", body=b'{"data": {"unexpected": "shape"}}'))
    proxy.add(Rule("DELETE", "/items/", "refuse", status=503, times=-1))
    result = seed(proxy.url, stack)
    assert result.returncode == 1
    first = result.stderr.split("FAILED: ", 1)[1].splitlines()[0]
    assert first.startswith("seeding failed at entries: unexpected TypeError")
    assert "undoing it failed too (DELETE /items/entries -> HTTP 503: injected fault [FAULT])" in first
    assert "left in the database:" in result.stderr
    assert "entries: up to 4 created row(s) with keys" in result.stderr
    assert "classes: 1 updated row(s) not restored" in result.stderr
    left = difference(start_state, seed_state(stack.info.dsn))
    assert left == "classes +1/-1, entries +4/-0"
    fault_report.outcome = (
        f"original error kept ('unexpected TypeError'), 'undoing it failed too (HTTP 503)', message lists what was "
        f"left ({left}); " + complete_seed(stack, fault_report)
    )
    fault_report.data_lost = "none (the old class name is replaced by the file's, as the seed intends)"


@pytest.mark.fault("Redis down while Directus runs")
def test_redis_lost_while_running_loses_no_acknowledged_write(stack, fault_report):
    api = Directus(stack.url, stack.info.admin_token, timeout=30)
    api.post("/items/organizations", {"slug": "before-redis-loss", "name": "written before Redis went away"})
    stack.redis.stop()
    t0 = time.monotonic()
    answers: list[tuple[str, str]] = []
    while time.monotonic() - t0 < 120 and stack.directus_process.poll() is None:
        slug = f"during-redis-loss-{len(answers)}"
        try:
            api.post("/items/organizations", {"slug": slug, "name": "written while Redis was down"})
            answers.append(("200", slug))
        except DirectusError as exc:
            answers.append((str(exc.status or "no answer"), slug))
        time.sleep(1)
    exit_code = stack.directus_process.poll()
    exited_after = time.monotonic() - t0
    written = {r[0] for r in query(stack.info.dsn, "SELECT slug FROM organizations WHERE slug LIKE 'during-redis-loss-%'")}
    acknowledged_but_missing = [slug for status, slug in answers if status == "200" and slug not in written]
    refused_but_written = [slug for status, slug in answers if status != "200" and slug in written]
    assert acknowledged_but_missing == []
    # recovery as an orchestrator does it: Redis back, Directus restarted
    stack.redis.start()
    stack.stop_directus()
    stack.boot()
    assert health(stack.url) == {"status": "ok"}
    slugs = {o["slug"] for o in api.get("/items/organizations", fields="slug", limit=-1)}
    assert "before-redis-loss" in slugs and written <= slugs
    statuses = ", ".join(f"{s} x{sum(a[0] == s for a in answers)}" for s in dict.fromkeys(a[0] for a in answers))
    ended = (
        f"Directus exited with code {exit_code} after {exited_after:.0f}s (ioredis MaxRetriesPerRequestError, upstream)"
        if exit_code is not None
        else "Directus kept running for 120s"
    )
    fault_report.outcome = (
        f"writes answered {statuses}; {ended}; Redis back + Directus restarted: healthy, every acknowledged write "
        f"present ({len(refused_but_written)} refused write(s) had been committed anyway)"
    )
    fault_report.data_lost = "none (no acknowledged write missing; Redis holds no data)"


@pytest.mark.fault("Redis down at boot")
def test_redis_down_at_boot_fails_by_its_deadline_naming_redis(stack, fault_report):
    stack.stop_directus()
    stack.redis.stop()
    stack.extra_env["TRM_REDIS_TIMEOUT_SECONDS"] = "5"
    try:
        t0 = time.monotonic()
        with pytest.raises(StackError) as info:
            stack.boot()
        took = time.monotonic() - t0
    finally:
        del stack.extra_env["TRM_REDIS_TIMEOUT_SECONDS"]
    assert "FAILED before step 1/5: Redis did not answer; Directus was not started" in info.value.what
    assert "did not answer within 5s (TRM_REDIS_TIMEOUT_SECONDS)" in info.value.log_tail
    assert stack.redis.password not in info.value.log_tail and "redis://:***@127.0.0.1" in info.value.log_tail
    assert "1/5 db-init pre-schema" not in stack.boot_output()
    stack.redis.start()
    stack.boot()
    assert health(stack.url) == {"status": "ok"}
    fault_report.outcome = (
        f"boot fails after {took:.1f}s (deadline TRM_REDIS_TIMEOUT_SECONDS=5) 'FAILED before step 1/5: Redis did "
        "not answer', URL shown with the password masked; no step ran; with Redis back the next boot is healthy"
    )
    fault_report.data_lost = "none (nothing was written)"


COURSE = REPO / "tests" / "data" / "course" / "valid-v1.0.3.gpx"
COURSE_TABLES = ("stages", "segments", "waypoints", "speed_limit_zones")


def course_rows(stack, event_id: str) -> dict[str, int]:
    """Rows of the event's course per table (SQL, behind the API's back)."""
    sql = {
        "stages": "SELECT count(*) FROM stages st WHERE st.event_id = %s",
        "segments": "SELECT count(*) FROM segments s JOIN stages st ON st.id = s.stage_id WHERE st.event_id = %s",
        "waypoints": "SELECT count(*) FROM waypoints w JOIN segments s ON s.id = w.segment_id "
        "JOIN stages st ON st.id = s.stage_id WHERE st.event_id = %s",
        "speed_limit_zones": "SELECT count(*) FROM speed_limit_zones z JOIN segments s ON s.id = z.segment_id "
        "JOIN stages st ON st.id = s.stage_id WHERE st.event_id = %s",
    }
    return {t: query(stack.info.dsn, sql[t], (event_id,))[0][0] for t in COURSE_TABLES}


@pytest.mark.fault("SIGTERM during a course import")
def test_sigterm_during_a_course_import_undoes_it_in_flight_request_included(stack, proxy, fault_report):
    from tests.integration.graph import CourseGraph
    from trm_directus.course import synthetic

    api = Directus(stack.url, stack.info.admin_token)
    event = CourseGraph(api).event()
    api.post(
        "/items/waypoint_radius_defaults",
        [{"event_id": event["id"], "waypoint_type": t, "open_radius_m": o, "validation_radius_m": v}
         for t, (o, v) in synthetic.DEFAULTS.items()],
    )  # fmt: skip
    held = proxy.add(Rule("POST", "/items/waypoints", "hold"))  # Directus writes them; the answer never comes
    args = ["course-import", str(COURSE), "--event", event["slug"], "--against", proxy.url]
    run = subprocess.Popen(
        [sys.executable, "-m", "trm_directus", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **admin_env(stack)},
    )
    assert held.arrived.wait(120), "the import never reached POST /items/waypoints"
    assert course_rows(stack, event["id"])["waypoints"] == 18  # in the database, not yet journalled by a response
    t0 = time.monotonic()
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=120)
    took = time.monotonic() - t0
    assert run.returncode == 1, err
    assert "FAILED: course import interrupted by SIGTERM at create 18 waypoints" in err, err
    assert re.search(r"rolled back: 2\d created row\(s\) deleted", err), err
    assert "Traceback" not in err
    assert course_rows(stack, event["id"]) == dict.fromkeys(COURSE_TABLES, 0)
    again = run_cli(*args, "--against", stack.url, env=admin_env(stack))
    assert again.returncode == 0 and "26 created, 0 updated, 0 deleted" in again.stdout, again.stderr
    assert course_rows(stack, event["id"]) == {"stages": 1, "segments": 5, "waypoints": 18, "speed_limit_zones": 2}
    fault_report.outcome = (
        f"exit 1 {took:.1f}s after SIGTERM with 18 waypoints written but unanswered: 'interrupted by SIGTERM', undo "
        "deleted every created row (the in-flight batch included); course empty; the next import created 26 rows"
    )
    fault_report.data_lost = "none (nothing left half-applied)"
