"""Preflight refuses missing, short or placeholder secrets outside dev mode."""

import pytest

from trm_directus.commands.preflight import problems, project_owner_problems
from trm_directus.stacks.base import StackInfo, directus_settings

GOOD = {
    "SECRET": "kQ3v9Zr2-Lw8Yt1Bn6Hc0Pd5Sx7Jm4Ef",
    "ADMIN_PASSWORD": "Tirana-Durres-2026",
    "ADMIN_TOKEN": "hT5nQ2wL9vR4xK7pB3mZ8cY1",
    "DB_PASSWORD": "o8Vq2Lr5Xw1Nz",
}


def test_safe_settings_pass():
    assert problems(GOOD) == []


def test_unset_admin_password_and_empty_admin_token_are_allowed():
    env = {k: v for k, v in GOOD.items() if k != "ADMIN_PASSWORD"} | {"ADMIN_TOKEN": ""}
    assert problems(env) == []


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SECRET", None, "SECRET is missing or a placeholder"),
        ("SECRET", "", "SECRET is missing or a placeholder"),
        ("SECRET", "changeme", "SECRET is missing or a placeholder"),
        ("SECRET", "abc123", "SECRET is shorter than 32 characters"),
        ("SECRET", "x" * 40, "SECRET is missing or a placeholder"),
        ("SECRET", "please-change-me-before-production-1234", "SECRET is missing or a placeholder"),
        ("SECRET", "${SECRET}", "SECRET is missing or a placeholder"),
        ("ADMIN_PASSWORD", "admin", "ADMIN_PASSWORD is a placeholder"),
        ("ADMIN_PASSWORD", "<your password>", "ADMIN_PASSWORD is a placeholder"),
        ("ADMIN_PASSWORD", "", "ADMIN_PASSWORD is a placeholder"),
        ("ADMIN_PASSWORD", "Rally2026!", "ADMIN_PASSWORD is shorter than 12 characters"),
        ("ADMIN_TOKEN", "token", "ADMIN_TOKEN is a placeholder"),
        ("ADMIN_TOKEN", "Example-Token-For-The-Docs-0001", "ADMIN_TOKEN is a placeholder"),
        ("ADMIN_TOKEN", "k7Hq2Zp9Lx4", "ADMIN_TOKEN is shorter than 24 characters"),
        ("DB_PASSWORD", None, "DB_PASSWORD is missing or a placeholder"),
        ("DB_PASSWORD", "directus", "DB_PASSWORD is missing or a placeholder"),
        ("DB_PASSWORD", "postgres", "DB_PASSWORD is missing or a placeholder"),
        ("DB_PASSWORD", "Pg-2026-q", "DB_PASSWORD is shorter than 12 characters"),
        ("DB_PASSWORD", "121212121212121212", "DB_PASSWORD is missing or a placeholder"),
    ],
)
def test_weak_settings_are_named_without_printing_the_value(name, value, expected):
    env = {k: v for k, v in GOOD.items() if k != name}
    if value is not None:
        env[name] = value
    found = problems(env)
    assert len(found) == 1 and found[0].startswith(expected), found
    if value and len(value) > 8:  # (short ones such as "admin" are words of the message itself)
        assert value not in found[0]


def test_every_weak_setting_is_reported_at_once():
    found = problems({"SECRET": "short", "ADMIN_PASSWORD": "password", "ADMIN_TOKEN": "abc", "DB_PASSWORD": ""})
    assert [p.split(" is ")[0] for p in found] == ["SECRET", "ADMIN_PASSWORD", "ADMIN_TOKEN", "DB_PASSWORD"]


def test_empty_or_malformed_project_owner_is_reported():
    assert project_owner_problems({"PROJECT_OWNER": "ops@example.com"}) == []
    assert "PROJECT_OWNER is empty" in project_owner_problems({})[0]
    assert "PROJECT_OWNER is empty" in project_owner_problems({"PROJECT_OWNER": "  "})[0]
    assert "not an e-mail address" in project_owner_problems({"PROJECT_OWNER": "ops"})[0]


def test_stack_settings_pass_preflight_with_the_admin_as_project_owner(tmp_path):
    info = StackInfo.load_or_new(
        tmp_path, "native", persistent=False, ports={"directus": None, "postgres": None}, database="d", user="u"
    )
    settings = directus_settings(info, public_url="http://127.0.0.1:1", host="127.0.0.1", port=1)
    assert settings["PROJECT_OWNER"] == info.admin_email
    assert problems(settings) == [] and project_owner_problems(settings) == []
