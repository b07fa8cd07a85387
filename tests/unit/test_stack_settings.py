"""The Directus configuration every stack backend gives its instance."""

from trm_directus.stacks.base import StackInfo, directus_settings


def settings() -> dict[str, str]:
    info = StackInfo(backend="native", state_dir="/nonexistent", secret="s" * 40, admin_password="p" * 16, admin_token="t" * 32)
    info.db = {"host": "127.0.0.1", "port": 5432, "database": "directus", "user": "postgres", "password": "pw"}
    return directus_settings(info, public_url="http://127.0.0.1:8055", host="127.0.0.1", port=8055)


def test_stacks_turn_off_the_pressure_limiter_that_answered_503_under_load():
    # Caught by the drift gate: GET /schema/snapshot -> 503 "Under pressure" on a busy 2-core machine.
    assert settings()["PRESSURE_LIMITER_ENABLED"] == "false"


def test_stacks_keep_db_init_tables_out_of_directus_and_never_cache_schema():
    s = settings()
    assert "positions" in s["DB_EXCLUDE_TABLES"].split(",")
    assert s["CACHE_ENABLED"] == "false" and s["TELEMETRY"] == "false"


def test_every_table_db_init_creates_is_excluded_from_directus():
    from pathlib import Path

    from trm_directus.schema.snapshot import owned_tables

    owned = owned_tables(Path(__file__).resolve().parents[2] / "db-init")
    assert {"positions", "recompute_requests"} <= owned
    assert owned <= set(settings()["DB_EXCLUDE_TABLES"].split(","))


def test_every_instance_shares_schedules_rate_limits_and_the_system_cache_through_redis():
    # lessons.md "Several Directus instances": memory stores are per process; the outbox resend would run once per instance.
    s = settings()
    assert {k: s[k] for k in ("SYNCHRONIZATION_STORE", "RATE_LIMITER_STORE", "CACHE_STORE")} == dict.fromkeys(
        ("SYNCHRONIZATION_STORE", "RATE_LIMITER_STORE", "CACHE_STORE"), "redis"
    )
    assert s["WEBSOCKETS_ENABLED"] == "true" and s["PUBLIC_URL"] == "http://127.0.0.1:8055" and s["SECRET"] == "s" * 40


def test_stacks_and_the_image_keep_activity_and_revisions_for_the_same_retention():
    """The entry timeline reads activity and revisions: both backends and the image trim them alike (400 days)."""
    import re

    from trm_directus.paths import repo_root
    from trm_directus.stacks.base import RETENTION

    s = settings()
    assert (
        {k: s[k] for k in RETENTION}
        == RETENTION
        == {
            "RETENTION_ENABLED": "true",
            "ACTIVITY_RETENTION": "400d",
            "REVISIONS_RETENTION": "400d",
        }
    )
    image = dict(re.findall(r'^\s+([A-Z_]+)="([^"]*)"', (repo_root() / "image" / "Dockerfile").read_text(), re.MULTILINE))
    assert {k: image.get(k) for k in RETENTION} == RETENTION


def test_native_stacks_bundle_their_app_extensions_in_their_own_directory(tmp_path):
    """Directus writes the admin app's extension bundle under TEMP_PATH, by default inside the install that every
    native stack shares: two stacks at once served each other's bundle (the entry timeline interface went missing)."""
    from trm_directus.stacks.native import NativeStack

    a, b = NativeStack(tmp_path / "a"), NativeStack(tmp_path / "b")
    assert a.directus_config()["TEMP_PATH"] == str(tmp_path / "a" / "tmp")
    assert b.directus_config()["TEMP_PATH"] == str(tmp_path / "b" / "tmp")
