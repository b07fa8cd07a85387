"""Prewarmed Directus CLI processes (directus/cli.py, warm.mjs): a call that takes one runs exactly the
command it asks for; one nobody takes exits without doing anything; one that died is replaced by a cold start.

A boot on an empty database goes through this path on every run (test_stack, the drift gate, the template
build); these tests pin the contract of the pieces on their own, with the real Directus install.
"""

from __future__ import annotations

import os

import pytest

from trm_directus import pins
from trm_directus.directus import cli as directus_cli
from trm_directus.services.node import ensure_directus

pytestmark = [pytest.mark.integration, pytest.mark.directus]


@pytest.fixture
def cli_env(monkeypatch):
    install = ensure_directus()
    monkeypatch.setenv("TRM_DIRECTUS_CLI", " ".join(install.cli_command()))
    monkeypatch.setenv("NODE_COMPILE_CACHE", str(install.root.parent / "node-compile-cache"))
    for key, value in install.node.env().items():
        monkeypatch.setenv(key, value)
    yield install
    directus_cli.discard_spares()


def test_a_prewarmed_process_runs_the_call_that_takes_it(cli_env):
    directus_cli.prewarm(1)
    [spare] = directus_cli._spares
    result = directus_cli.run("--version", echo=False)
    assert result.returncode == 0 and pins.directus_version() in result.output, result.output
    assert spare.poll() is not None and directus_cli._spares == []  # that process ran it, none started after it
    cold = directus_cli.run("--version", echo=False)  # no spare left: a cold start, the same answer
    assert cold.output == result.output


def test_each_call_that_takes_a_spare_starts_the_next_until_the_count(cli_env):
    directus_cli.prewarm(2)
    first = directus_cli._spares[0]
    directus_cli.run("--version", echo=False)
    [second] = directus_cli._spares
    assert second is not first and second.poll() is None  # loading for the next call
    directus_cli.run("--version", echo=False)
    assert directus_cli._spares == [] and second.poll() is not None


def test_a_spare_nobody_takes_exits_without_running_anything(cli_env):
    directus_cli.prewarm(1)
    [spare] = directus_cli._spares
    directus_cli.discard_spares()
    assert spare.returncode == 0 and directus_cli._spares == []


def test_a_spare_that_died_is_replaced_by_a_cold_start_that_says_so(cli_env, capsys):
    directus_cli.prewarm(1)
    [spare] = directus_cli._spares
    os.killpg(spare.pid, 9)
    spare.wait(timeout=10)
    result = directus_cli.run("--version", echo=False)
    assert result.returncode == 0 and pins.directus_version() in result.output
    assert "a prewarmed Directus CLI could not be used" in capsys.readouterr().err


def test_warm_calls_can_be_turned_off(cli_env, monkeypatch):
    monkeypatch.setenv("TRM_DIRECTUS_WARM", "0")
    directus_cli.prewarm(2)
    assert directus_cli._spares == []
