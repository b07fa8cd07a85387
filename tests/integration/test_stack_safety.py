"""Stacks on a shared machine: durable dev data, private directories as root, no access for other
local accounts (PostgreSQL, Redis). No Directus needed."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from trm_directus.errors import StackError
from trm_directus.services import proc
from trm_directus.services.postgres import DEFAULT_DATA_ROOT, PostgresCluster
from trm_directus.services.redis import RedisServer
from trm_directus.stacks.native import NativeStack

pytestmark = pytest.mark.integration

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: these are the paths a root-run toolchain (CI) takes and the users it switches to"
)


def settings(dsn: str, *names: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return [conn.execute(f"SHOW {n}").fetchone()[0] for n in names]


def as_nobody(*cmd: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5", "HOME": "/"}
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return subprocess.run([runuser, "-u", "nobody", "--", *cmd], capture_output=True, text=True, env=env, timeout=30)


def test_dev_stack_postgres_is_durable_and_a_throwaway_cluster_is_not(tmp_path):
    dev = NativeStack(tmp_path / "dev", persistent=True)
    throwaway = PostgresCluster(tmp_path / "tmp")
    try:
        dev.postgres.start()
        throwaway.start()
        assert settings(dev.postgres.dsn(), "fsync", "synchronous_commit", "full_page_writes") == ["on", "on", "on"]
        assert settings(throwaway.dsn(), "fsync", "synchronous_commit") == ["off", "off"]
    finally:
        dev.postgres.destroy()
        throwaway.destroy()


@needs_root
def test_a_root_dev_stack_keeps_its_data_outside_tmp(tmp_path):
    # tmp_path (pytest's 0700 directory) is out of reach for the postgres user, like a checkout under /root.
    assert not proc.user_can_reach(tmp_path / "dev" / "postgres")
    dev = NativeStack(tmp_path / "dev", persistent=True)
    try:
        assert dev.postgres.pg_dir.parent == Path(DEFAULT_DATA_ROOT)
        assert not str(dev.postgres.pg_dir).startswith(tempfile.gettempdir())
        dev.postgres.start()
        st = dev.postgres.pg_dir.stat()
        assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == pwd.getpwnam(proc.UNPRIVILEGED_USER).pw_uid
        assert stat.S_IMODE(Path(DEFAULT_DATA_ROOT).stat().st_mode) == 0o755
    finally:
        dev.postgres.destroy()
    assert not dev.postgres.pg_dir.exists()


def test_a_persistent_stack_whose_data_vanished_refuses_to_start(tmp_path):
    state = tmp_path / "dev"
    first = NativeStack(state, persistent=True)
    try:
        first.start(boot=False)
        first.stop()
        shutil.rmtree(first.postgres.data_dir)
        again = NativeStack(state, persistent=True)
        with pytest.raises(StackError) as info:
            again.start(boot=False)
        assert "the stack's database is gone" in info.value.what and "no empty database was created" in info.value.what
        assert "stack up --reset" in info.value.hint
        assert not again.postgres.initialized and not proc.port_open(again.info.ports["postgres"])
    finally:
        NativeStack(state, persistent=True).stop(purge=True)


@needs_root
def test_a_throwaway_cluster_never_uses_a_directory_someone_else_prepared(tmp_path):
    """The old predictable /tmp/trm-directus-pg-<hash>, pre-created by another user with a planted
    symlink, must neither be used nor written through."""
    import hashlib

    base = tmp_path / "stack"
    base.mkdir()
    key = hashlib.sha256(str(base.resolve()).encode()).hexdigest()[:12]
    trap = Path(tempfile.gettempdir()) / f"trm-directus-pg-{key}"
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    nobody = pwd.getpwnam("nobody")
    trap.mkdir(mode=0o777)
    try:
        (trap / "pwfile").symlink_to(victim)
        os.chown(trap / "pwfile", nobody.pw_uid, nobody.pw_gid, follow_symlinks=False)
        os.chown(trap, nobody.pw_uid, nobody.pw_gid)
        cluster = PostgresCluster(base)
        try:
            cluster.start()
            assert cluster.pg_dir != trap
            st = cluster.pg_dir.stat()
            assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == pwd.getpwnam(proc.UNPRIVILEGED_USER).pw_uid
        finally:
            cluster.destroy()
        assert victim.read_text() == "precious\n" and victim.stat().st_uid == 0
        assert (trap / "pwfile").is_symlink() and trap.stat().st_uid == nobody.pw_uid
    finally:
        shutil.rmtree(trap, ignore_errors=True)


@needs_root
def test_other_local_accounts_cannot_use_the_stack_databases(pg_cluster, tmp_path):
    # PostgreSQL: not over TCP with the well-known password, not over its socket
    port = str(pg_cluster.port)
    tcp = as_nobody("psql", f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres", "-w", "-c", "SELECT 1")
    assert tcp.returncode != 0 and "password authentication failed" in tcp.stderr
    sock = as_nobody("psql", "-h", str(pg_cluster.pg_dir), "-p", port, "-U", "postgres", "-w", "-d", "postgres", "-c", "SELECT 1")
    assert sock.returncode != 0, sock.stdout
    # Redis: answers nobody without the password
    redis = RedisServer(tmp_path)
    try:
        redis.start()
        ping = as_nobody(
            "python3",
            "-c",
            f"import socket; s = socket.create_connection(('127.0.0.1', {redis.port}), timeout=5);"
            " s.sendall(b'PING\\r\\n'); print(s.recv(64).decode())",
        )
        assert ping.returncode == 0 and "NOAUTH" in ping.stdout, ping.stdout + ping.stderr
        assert "requirepass" not in " ".join(Path(f"/proc/{redis.pid}/cmdline").read_text().split("\0"))
        assert stat.S_IMODE(redis.conf.stat().st_mode) == 0o600
    finally:
        redis.stop()
