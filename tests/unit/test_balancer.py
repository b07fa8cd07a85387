"""image/haproxy.cfg as the native stack renders it, and HAProxy's `show stat` as the stack reads it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from trm_directus.errors import ConfigError
from trm_directus.services.balancer import CONFIG, Balancer, parse_stat, render, server_lines

REPO = Path(__file__).resolve().parents[2]


def rendered(tmp_path: Path) -> str:
    balancer = Balancer(tmp_path, REPO, 18055)
    return balancer.write_config({"directus-1": 18056, "directus-2": 18057}).read_text()


def test_native_rendering_replaces_the_compose_servers_and_keeps_everything_else(tmp_path):
    source, text = (REPO / CONFIG).read_text(), rendered(tmp_path)
    assert "resolvers docker" in source and "resolvers docker" not in text
    assert "server-template directus" not in text and "# servers: begin" not in text
    assert "    server directus-1 127.0.0.1:18056 check\n    server directus-2 127.0.0.1:18057 check\n" in text
    for kept in ("http-check send meth GET uri /server/ping", "retry-on conn-failure empty-response", "timeout tunnel 1h"):
        assert kept in source and kept in text
    assert "http-request disable-l7-retry unless METH_GET || METH_HEAD || METH_OPTIONS" in text


def test_a_file_without_the_markers_is_refused_with_what_to_do():
    with pytest.raises(ConfigError) as info:
        render("backend directus\n    server a 127.0.0.1:1\n", {"servers": server_lines({"b": 2})}, "my.cfg")
    assert "my.cfg: no `# servers: begin`" in info.value.what and "markers" in info.value.hint


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed (bash .ci/prereqs installs it)")
@pytest.mark.parametrize("native", [True, False], ids=["native", "compose"])
def test_haproxy_accepts_the_file_as_native_and_as_compose_use_it(tmp_path, native):
    path = Balancer(tmp_path, REPO, 18055).write_config({"directus-1": 18056}) if native else REPO / CONFIG
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "TRM_BALANCER_BIND": "127.0.0.1:18055", "TRM_BALANCER_SOCKET": str(tmp_path / "s")}
    check = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, env=env)
    assert check.returncode == 0, check.stdout + check.stderr


def test_show_stat_rows_of_the_directus_backend_by_server():
    csv_text = (
        "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status\n"
        "directus,FRONTEND,,,0,1,4096,3,OPEN\n"
        "directus,directus-1,0,0,2,3,,10,UP\n"
        "directus,directus-2,0,0,0,1,,4,DOWN\n"
        "directus,BACKEND,0,0,2,3,410,14,UP\n"
        "stats,directus-9,0,0,0,0,,0,UP\n"
    )
    rows = parse_stat(csv_text)
    assert list(rows) == ["directus-1", "directus-2"]
    assert (rows["directus-1"]["status"], rows["directus-1"]["scur"], rows["directus-2"]["status"]) == ("UP", "2", "DOWN")


def test_stack_up_with_no_instance_is_refused_before_anything_is_created(tmp_path):
    from tests.conftest import run_cli

    state = tmp_path / "stack"
    r = run_cli("stack", "up", "--backend", "native", "--instances", "0", env={"TRM_STATE_DIR": str(state)})
    assert r.returncode == 1 and "FAILED: --instances 0: a stack runs at least one Directus" in r.stderr
    assert "pass --instances 1 or more" in r.stderr and not state.exists()
