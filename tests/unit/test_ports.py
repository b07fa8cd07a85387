"""Port allocation for stacks: distinct ports within a stack (a collision was seen in CI)."""

from trm_directus.services import proc
from trm_directus.stacks.base import StackInfo


def test_free_ports_are_distinct_and_free():
    ports = proc.free_ports(50)
    assert len(set(ports)) == 50
    assert not any(proc.port_open(p) for p in ports)


def test_a_new_stack_gets_distinct_ports_for_every_service(tmp_path):
    for i in range(100):
        info = StackInfo.load_or_new(
            tmp_path / str(i),
            "native",
            persistent=False,
            database="d",
            user="u",
            ports={"directus": None, "postgres": None, "redis": None},
        )
        assert len(set(info.ports.values())) == 3, info.ports
        assert info.db["port"] == info.ports["postgres"]


def test_requested_ports_are_kept_and_others_avoid_them(tmp_path):
    wanted = proc.free_port()
    info = StackInfo.load_or_new(
        tmp_path, "native", persistent=False, database="d", user="u", ports={"directus": wanted, "postgres": None, "redis": None}
    )
    assert info.ports["directus"] == wanted and wanted not in (info.ports["postgres"], info.ports["redis"])
