"""Every wait has a deadline: the settings (seconds, from the environment, with defaults) in one table.

A wait that runs past its deadline fails with WaitTimeout naming what it waited for, the setting
that bounds it, and (for locks) who holds what it waited for. docs/explanations/boot-pipeline.md lists them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ConfigError


@dataclass(frozen=True)
class Deadline:
    setting: str  # environment variable
    default: float  # seconds
    waits_for: str  # what the wait is for, as the messages say it

    def seconds(self, env: Mapping[str, str] | None = None) -> float:
        env = os.environ if env is None else env
        raw = env.get(self.setting, "").strip()
        if not raw:
            return self.default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(
                f"{self.setting}={raw!r} is not a number", f"set it to a number of seconds (default {self.default:g})"
            ) from None
        if value <= 0:
            raise ConfigError(
                f"{self.setting}={raw!r} must be positive", f"set it to a number of seconds (default {self.default:g})"
            )
        return value


DATABASE = Deadline("DB_INIT_TIMEOUT_SECONDS", 60, "the database to answer")
BOOT_LOCK = Deadline("TRM_BOOT_LOCK_TIMEOUT_SECONDS", 600, "the boot lock (another container is running boot steps 1-4)")
DB_INIT_LOCK = Deadline("DB_INIT_LOCK_TIMEOUT_SECONDS", 300, "the db-init lock (another migration run)")
TABLE_LOCK = Deadline("DB_INIT_TABLE_LOCK_TIMEOUT_SECONDS", 30, "a table lock a db-init statement needs (lock_timeout)")
STATEMENT = Deadline("DB_INIT_STATEMENT_TIMEOUT_SECONDS", 900, "one db-init statement to finish (statement_timeout)")
REDIS = Deadline("TRM_REDIS_TIMEOUT_SECONDS", 60, "Redis to answer before Directus starts (Directus exits without it)")
DIRECTUS_CLI = Deadline("TRM_DIRECTUS_CLI_TIMEOUT_SECONDS", 600, "one Directus CLI call (bootstrap, schema snapshot/apply)")

ALL = (DATABASE, BOOT_LOCK, DB_INIT_LOCK, TABLE_LOCK, STATEMENT, REDIS, DIRECTUS_CLI)
