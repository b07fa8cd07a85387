"""Choosing a backend (`native`, `compose`, `auto`) and finding the developer's persistent stack."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import console, paths
from ..errors import ConfigError, StackError
from .base import StackInfo
from .compose import ComposeStack, engine_available
from .native import NativeStack

BACKENDS = ("auto", "native", "compose")


def resolve_backend(name: str) -> str:
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r}", f"use one of: {', '.join(BACKENDS)}")
    if name == "native":
        return name
    ok, why = engine_available()
    if name == "compose":
        if not ok:
            raise StackError(
                f"the compose backend was requested, but {why}",
                "use --backend native (no Docker needed), or start a Docker engine with the compose plugin",
            )
        return name
    chosen = "compose" if ok else "native"
    console.info(f"backend auto: {chosen} ({why})")
    return chosen


def make_stack(backend: str = "auto", **kwargs: Any) -> NativeStack | ComposeStack:
    """A stack object (not started); a context manager for throw-away use."""
    chosen = resolve_backend(backend)
    if chosen == "compose":
        if kwargs.get("instances", 1) > 1:
            raise ConfigError(
                "--instances with the compose backend: use its `scaled` profile instead",
                "docker compose -f image/compose.yaml --profile scaled up (docs/how-to/run-several-instances.md), "
                "or --backend native",
            )
        allowed = {"state_dir", "persistent", "directus_port", "db_port", "env", "health_timeout"}
        return ComposeStack(**{k: v for k, v in kwargs.items() if k in allowed})
    return NativeStack(**kwargs)


def dev_state_dir() -> Path:
    """Where `up` keeps the developer's persistent stack (git-ignored; TRM_STATE_DIR overrides)."""
    override = os.environ.get("TRM_STATE_DIR")
    return Path(override) if override else paths.repo_root() / ".state" / "stack"


def dev_stack(state_dir: Path | None = None, instances: int | None = None) -> NativeStack | ComposeStack | None:
    """The persistent stack recorded in the state directory, if any (not necessarily running); `instances`
    changes how many Directus processes a native one runs from its next start."""
    state_dir = state_dir or dev_state_dir()
    info = StackInfo.load(state_dir)
    if info is None:
        return None
    if info.backend == "compose":
        return ComposeStack(state_dir, persistent=True)
    return NativeStack(state_dir, persistent=True, instances=instances)
