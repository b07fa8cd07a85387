"""Preflight refuses missing or placeholder SECRET / admin password."""

from trm_directus.commands.preflight import problems

GOOD = {"SECRET": "x" * 40, "ADMIN_PASSWORD": "a-real-password-9"}


def test_safe_settings_pass():
    assert problems(GOOD) == []


def test_missing_short_or_placeholder_secret_is_reported():
    assert "SECRET is missing" in problems({**GOOD, "SECRET": ""})[0]
    assert "SECRET is missing" in problems({**GOOD, "SECRET": "changeme"})[0]
    assert "shorter than 32" in problems({**GOOD, "SECRET": "abc123"})[0]


def test_placeholder_admin_password_is_reported():
    assert problems({**GOOD, "ADMIN_PASSWORD": "admin"}) == ["ADMIN_PASSWORD is a placeholder"]
    assert problems({**GOOD, "ADMIN_PASSWORD": "<your password>"}) == ["ADMIN_PASSWORD is a placeholder"]
