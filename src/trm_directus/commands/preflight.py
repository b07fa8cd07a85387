"""`preflight`: refuse to boot with missing, short or placeholder secrets (unless TRM_DEV_MODE=true).

Checked: SECRET (signs sessions), ADMIN_PASSWORD and ADMIN_TOKEN (the first admin's credentials,
bootstrap creates them), DB_PASSWORD (the database account). A value is a placeholder when it is a
well-known default, looks like a template (`<…>`, `${…}`), contains words such as "changeme" or
"example", or uses fewer than MIN_DISTINCT different characters. Values are never printed.
"""

from __future__ import annotations

import argparse
import os
import re

from .. import console
from ..errors import ConfigError

PLACEHOLDERS = {
    "",
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "password",
    "passw0rd",
    "admin",
    "directus",
    "postgres",
    "example",
    "replace-me",
    "todo",
    "test",
    "default",
    "token",
    "root",
    "none",
    "null",
}
PLACEHOLDER_WORDS = re.compile(
    r"changeme|replaceme|placeholder|example|dummy|insecure|notsecret|yoursecret|yourpassword|yourtoken|password123",
)
MIN_DISTINCT = 6


# name: (minimum length, what it is for, checked when absent/empty)
SETTINGS = {
    "SECRET": (32, "Directus signs sessions with it", True),
    "ADMIN_PASSWORD": (12, "the first admin's password", False),
    "ADMIN_TOKEN": (24, "the first admin's static API token", False),
    "DB_PASSWORD": (12, "the database account's password", True),
}


def is_placeholder(value: str) -> bool:
    plain = value.strip().lower()
    if plain in PLACEHOLDERS or plain.startswith(("<", "${", "{{")):
        return True
    if PLACEHOLDER_WORDS.search(re.sub(r"[^a-z0-9]", "", plain)):
        return True
    return len(set(value)) < MIN_DISTINCT


def problems(env: dict[str, str]) -> list[str]:
    found = []
    for name, (minimum, purpose, required) in SETTINGS.items():
        value = env.get(name)
        if value is None or (value == "" and name == "ADMIN_TOKEN"):
            if required:
                found.append(f"{name} is missing or a placeholder ({purpose})")
            continue  # ADMIN_PASSWORD / ADMIN_TOKEN unset: bootstrap creates no admin / no static token
        if is_placeholder(value):
            found.append(f"{name} is {'missing or ' if required else ''}a placeholder ({purpose})")
        elif len(value) < minimum:
            found.append(f"{name} is shorter than {minimum} characters ({purpose})")
    return found


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def project_owner_problems(env: dict[str, str]) -> list[str]:
    """Directus reads PROJECT_OWNER at bootstrap; without it the first admin login is blocked by a licence dialog."""
    owner = env.get("PROJECT_OWNER", "").strip()
    if not owner:
        return [
            "PROJECT_OWNER is empty: set it to the licence owner's e-mail "
            "(without it the first admin login is blocked by Directus's licence dialog)"
        ]
    if not EMAIL.match(owner):
        return [f"PROJECT_OWNER is not an e-mail address: {owner!r}"]
    return []


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return sub.add_parser(
        "preflight", help="check boot settings (SECRET, ADMIN_PASSWORD, ADMIN_TOKEN, DB_PASSWORD) before anything runs"
    )


def run(args: argparse.Namespace) -> int:
    found = problems(dict(os.environ)) + project_owner_problems(dict(os.environ))
    if not found:
        console.info("preflight: settings look safe")
        return 0
    if os.environ.get("TRM_DEV_MODE", "").lower() in ("1", "true", "yes"):
        for p in found:
            console.warn(f"{p} (allowed because TRM_DEV_MODE=true; never in production)")
        return 0
    raise ConfigError(
        "unsafe boot settings: " + "; ".join(found),
        "generate each secret randomly (e.g. `openssl rand -base64 48`): SECRET 32+ characters, ADMIN_PASSWORD and "
        "DB_PASSWORD 12+, ADMIN_TOKEN 24+ (or leave ADMIN_TOKEN empty); for a local throw-away stack only, "
        "TRM_DEV_MODE=true accepts them",
    )
