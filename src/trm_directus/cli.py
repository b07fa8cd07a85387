"""Command-line entry: parses arguments, runs one command, turns errors into `FAILED: …` + exit code."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__, signals
from .errors import EXIT_ERROR, TrmError

# Registry of commands, in the order `--help` lists them: each module has register() and run().
COMMANDS = (
    "migrate",
    "status",
    "repair",
    "stack",
    "backup",
    "restore",
    "snapshot",
    "diff",
    "apply",
    "ui-snapshot",
    "ui-apply",
    "access-snapshot",
    "access-diff",
    "access-apply",
    "drift",
    "upgrade",
    "model",
    "extensions",
    "seed",
    "course-import",
    "course-export",
    "rules-import",
    "gateway-sim",
    "pins",
    "preflight",
    "boot-steps",
    "bootstrap",
    "schema-apply",
    "bench",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that command is imported (boot steps start faster)."""
    parser = argparse.ArgumentParser(
        prog="python -m trm_directus",
        description="TRM Directus toolchain: db-init migrations, stacks, schema as code, seeds.",
    )
    parser.add_argument("--version", action="version", version=f"trm-directus {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for name in [only] if only in COMMANDS else COMMANDS:
        module = importlib.import_module(f".commands.{name.replace('-', '_')}", __package__)
        p = module.register(sub)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    signals.install()  # SIGTERM (CI cancels) cleans up like Ctrl-C: stacks stop, seeds undo
    try:
        return int(args._run(args) or 0)
    except TrmError as exc:
        print(f"FAILED: {exc.render()}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        print(f"FAILED: interrupted by {signals.name_of(exc)}", file=sys.stderr, flush=True)
        return EXIT_ERROR
