"""`preflight`: refuse to boot with a missing or placeholder SECRET / admin password (unless TRM_DEV_MODE)."""

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
    "admin",
    "directus",
    "example",
    "replace-me",
    "todo",
}
MIN_SECRET_LENGTH = 32


def problems(env: dict[str, str]) -> list[str]:
    found = []
    secret = env.get("SECRET", "")
    if secret.strip().lower() in PLACEHOLDERS or secret.startswith("<"):
        found.append("SECRET is missing or a placeholder (Directus would sign sessions with it)")
    elif len(secret) < MIN_SECRET_LENGTH:
        found.append(f"SECRET is shorter than {MIN_SECRET_LENGTH} characters")
    password = env.get("ADMIN_PASSWORD")
    if password is not None and (password.strip().lower() in PLACEHOLDERS or password.startswith("<")):
        found.append("ADMIN_PASSWORD is a placeholder")
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
    return sub.add_parser("preflight", help="check boot settings (SECRET, admin password) before anything runs")


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
        "set SECRET to a random string of 32+ characters (e.g. `openssl rand -base64 48`) and a real ADMIN_PASSWORD; "
        "for a local throw-away stack only, TRM_DEV_MODE=true accepts them",
    )
