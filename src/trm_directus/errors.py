"""The error hierarchy: every failure the toolchain reports, carrying the data to explain it."""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2


class TrmError(Exception):
    """Base error: `what` failed, `hint` says what to do. Only the CLI turns it into an exit code."""

    exit_code = EXIT_ERROR

    def __init__(self, what: str, hint: str = "", *, details: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint
        self.details = details

    def render(self) -> str:
        lines = [self.what]
        if self.details:
            lines.append(self.details.rstrip())
        if self.hint:
            lines.append(f"What to do: {self.hint}")
        return "\n".join(lines)


class ConfigError(TrmError):
    """A setting is missing or malformed."""


class DatabaseUnavailable(TrmError):
    """The database did not answer within the timeout."""


class MigrationError(TrmError):
    """Base of everything the db-init runner refuses or fails on."""


class MigrationLayoutError(MigrationError):
    """A db-init directory holds a badly named or duplicate file."""


class ChecksumMismatch(MigrationError):
    """An applied file was edited after it was applied."""

    def __init__(self, changed: list[tuple[str, str, str]], hint: str) -> None:
        lines = [f"  {name}: applied {old[:12]}…, on disk {new[:12]}…" for name, old, new in changed]
        super().__init__(
            f"{len(changed)} applied db-init file(s) changed since they were applied",
            hint,
            details="\n".join(lines),
        )
        self.changed = changed


class OutOfOrderMigration(MigrationError):
    """A pending file is numbered below the highest applied file of its phase."""


class MissingMigration(MigrationError):
    """The ledger records a file that is no longer on disk."""


class MigrationFailed(MigrationError):
    """A file's SQL failed; its transaction was rolled back."""

    def __init__(self, file: str, line: int | None, pg_error: str, hint: str, details: str = "") -> None:
        where = f"{file}:{line}" if line else file
        super().__init__(f"db-init file {where} failed: {pg_error}", hint, details=details)
        self.file = file
        self.line = line
        self.pg_error = pg_error


class TimescaleDBMissing(MigrationError):
    """TRM_TIMESCALEDB=required, but the database has no timescaledb extension after the pre phase."""


class StackError(TrmError):
    """A stack (Postgres, Redis, Directus) failed to start, answer or stop."""

    def __init__(self, what: str, hint: str = "", *, step: str = "", log_tail: str = "") -> None:
        details = f"--- last lines of {step} log ---\n{log_tail}" if log_tail else ""
        super().__init__(what, hint, details=details)
        self.step = step
        self.log_tail = log_tail


class DirectusError(TrmError):
    """Directus answered a REST call with an error or not at all."""

    def __init__(self, what: str, hint: str = "", *, status: int | None = None, body: str = "") -> None:
        super().__init__(what, hint, details=body[:2000] if body else "")
        self.status = status
        self.body = body


class SnapshotError(TrmError):
    """A schema snapshot file is unreadable, malformed, or for another Directus version."""


class SchemaApplyRefused(TrmError):
    """The guarded apply refused a destructive or mismatched change."""


class DriftFound(TrmError):
    """The drift gate found a difference between the committed artifacts and the database."""

    exit_code = EXIT_DRIFT


class UpgradeError(TrmError):
    """The upgrade gate could not run: the base ref is unknown, cannot be checked out, booted or seeded."""


class ArtifactError(TrmError):
    """A system artifact file (snapshots/ui.yaml) is invalid, or cannot be captured or applied."""


class SeedError(TrmError):
    """A seed file is invalid or could not be loaded; nothing was written."""


class CourseError(TrmError):
    """A course file (OpenRally GPX) is invalid, or its import/export failed; nothing was written."""


class WaitTimeout(TrmError):
    """A wait ran past its deadline (deadlines.py): names what it waited for and who held it."""


class RulesError(TrmError):
    """An event's rules file is invalid or could not be loaded; nothing was written."""
