"""Boot steps that are this package's own CLI on this interpreter run inside boot-steps (no new Python)."""

from __future__ import annotations

import shlex
import sys

from trm_directus.boot import steps as boot


def test_the_entrypoints_own_commands_run_in_this_process():
    command = f"{shlex.quote(sys.executable)} -m trm_directus migrate --phase pre --dir /directus/db-init"
    assert boot.own_cli_args(command) == ["migrate", "--phase", "pre", "--dir", "/directus/db-init"]


def test_other_interpreters_shell_syntax_and_other_programs_run_in_a_shell():
    assert boot.own_cli_args("/usr/bin/false -m trm_directus migrate") is None  # another program
    assert boot.own_cli_args(f"{sys.executable} -m other_package migrate") is None
    assert boot.own_cli_args(f"{sys.executable} -m trm_directus migrate; rm -rf /tmp/x") is None  # a shell is needed
    assert boot.own_cli_args(f"{sys.executable} -m trm_directus bootstrap $EXTRA") is None
    assert boot.own_cli_args("exit 3") is None
    assert boot.own_cli_args("'unbalanced") is None


def test_an_in_process_step_reports_its_exit_code_and_failure_like_a_process(capsys):
    bad_dir = "/nonexistent/db-init"
    command = (
        f"{shlex.quote(sys.executable)} -m trm_directus migrate --phase pre --dir {bad_dir} --dsn postgresql://x@127.0.0.1:1/x"
    )
    rc = boot.run_step(1, "db-init pre-schema", command)
    out = capsys.readouterr()
    assert rc == 1
    assert "[entrypoint] FAILED at step 1/5 (db-init pre-schema) with exit code 1" in out.out
    assert "FAILED:" in out.err
