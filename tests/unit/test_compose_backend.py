"""The compose backend's command lines, environment and auto-selection (no Docker engine needed)."""

import re

import pytest
import yaml

from trm_directus.errors import StackError
from trm_directus.stacks import select
from trm_directus.stacks.compose import ComposeStack, engine_available


def test_compose_command_targets_the_repo_file_project_and_env_file(tmp_path, repo):
    stack = ComposeStack(tmp_path, project="trm-test", directus_port=18055, db_port=15432)
    cmd = stack.compose_cmd("up", "--wait")
    assert cmd[:2] == ["docker", "compose"]
    assert cmd[cmd.index("-f") + 1] == str(repo / "image" / "compose.yaml")
    assert cmd[cmd.index("-p") + 1] == "trm-test"
    assert cmd[cmd.index("--env-file") + 1] == str(tmp_path / "compose.env")
    assert cmd[-2:] == ["up", "--wait"]


def test_compose_env_carries_generated_secrets_and_ports(tmp_path):
    stack = ComposeStack(tmp_path, project="trm-test", directus_port=18055, db_port=15432)
    env = stack.compose_env()
    assert env["DIRECTUS_PORT"] == "18055" and env["DB_PORT_PUBLISHED"] == "15432"
    assert len(env["SECRET"]) >= 32 and env["ADMIN_PASSWORD"] and env["DB_PASSWORD"]
    assert env["PROJECT_OWNER"] == env["ADMIN_EMAIL"]  # no licence dialog on the first login
    assert stack.url == "http://127.0.0.1:18055"
    again = ComposeStack(tmp_path)  # nothing persisted before start: new secrets
    assert again.project != "" and again.info.secret


def test_compose_file_has_healthchecks_gating_directus(repo):
    doc = yaml.safe_load((repo / "image" / "compose.yaml").read_text())
    assert set(doc["services"]) == {"db", "redis", "directus", "directus-replica", "haproxy", "backup"}
    services = {name: s for name, s in doc["services"].items() if "profiles" not in s}
    assert set(services) == {"db", "redis", "directus"}
    assert all("healthcheck" in s for s in services.values())
    assert services["directus"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert services["db"]["image"].startswith("timescale/timescaledb-ha")
    assert "db-data" in doc["volumes"] and "uploads" in doc["volumes"]
    assert services["directus"]["environment"]["PROJECT_OWNER"] == "${PROJECT_OWNER:-}"


def test_compose_archives_wal_and_backs_up_with_pgbackrest_on_volumes_of_their_own(repo):
    doc = yaml.safe_load((repo / "image" / "compose.yaml").read_text())
    db, backup, redis = (doc["services"][n] for n in ("db", "backup", "redis"))
    assert "archive_mode=on" in db["command"] and any(c.startswith("archive_command=pgbackrest") for c in db["command"])
    assert backup["profiles"] == ["backup"] and backup["image"] == db["image"]  # the same pgBackRest as archives
    assert "backups:/home/postgres/backups" in db["volumes"] and "backups" in doc["volumes"]
    conf = (repo / "image" / "pgbackrest.conf").read_text()
    assert "repo1-path=/home/postgres/backups" in conf and "pg1-path=/home/postgres/pgdata/data" in conf
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"  # durable streams


def test_compose_database_is_an_exact_timescaledb_ha_tag_on_the_postgresql_major_ci_installs(repo):
    image = yaml.safe_load((repo / "image" / "compose.yaml").read_text())["services"]["db"]["image"]
    tag = re.fullmatch(r"timescale/timescaledb-ha:pg(\d+)\.\d+-ts\d+\.\d+\.\d+", image)
    assert tag, f"{image}: pin an exact pgMAJOR.MINOR-tsX.Y.Z tag, not a moving one"
    ci_major = re.search(r"\bpostgresql-(\d+)\b", (repo / ".ci" / "prereqs").read_text()).group(1)
    assert tag.group(1) == ci_major, "the compose database must run the PostgreSQL major the tests run on"


def test_auto_backend_falls_back_to_native_without_an_engine(capsys):
    available, why = engine_available(timeout=1)
    if available:
        assert select.resolve_backend("auto") == "compose"
    else:
        assert select.resolve_backend("auto") == "native"
        assert f"backend auto: native ({why})" in capsys.readouterr().err


def test_explicit_compose_without_an_engine_is_a_clear_error():
    available, why = engine_available(timeout=1)
    if available:
        assert select.resolve_backend("compose") == "compose"
        return
    with pytest.raises(StackError) as info:
        select.resolve_backend("compose")
    assert why in info.value.what and "--backend native" in info.value.hint


def test_the_scaled_profile_runs_replicas_of_the_same_directus_behind_haproxy_with_the_repo_file(repo):
    services = yaml.safe_load((repo / "image" / "compose.yaml").read_text())["services"]
    directus, replica, haproxy = services["directus"], services["directus-replica"], services["haproxy"]
    assert "profiles" not in directus and replica["profiles"] == haproxy["profiles"] == ["scaled"]
    same = ("build", "image", "environment", "volumes", "healthcheck", "depends_on")
    assert {k: replica[k] for k in same} == {k: directus[k] for k in same}
    assert replica["deploy"]["replicas"] == "${DIRECTUS_REPLICAS:-2}" and "ports" not in replica
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in haproxy["volumes"]
    assert haproxy["depends_on"] == {"directus": {"condition": "service_healthy"}}
    cfg = (repo / "image" / "haproxy.cfg").read_text()
    assert "directus:8055" in cfg and "directus-replica:8055" in cfg  # both services' instances are its servers
    env = directus["environment"]
    assert (env["SYNCHRONIZATION_STORE"], env["CACHE_STORE"], env["RATE_LIMITER_STORE"]) == ("redis", "redis", "redis")
