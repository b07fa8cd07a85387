"""Preflight refuses missing or placeholder SECRET / admin password."""

from trm_directus.commands.preflight import problems, project_owner_problems
from trm_directus.stacks.base import StackInfo, directus_settings

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
