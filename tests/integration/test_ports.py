"""Services whose chosen port was taken meanwhile move to another one instead of failing the stack."""

import socket

import pytest

from trm_directus.services.postgres import PostgresCluster
from trm_directus.services.redis import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture
def occupied():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_redis_moves_off_a_taken_port(tmp_path, occupied):
    redis = RedisServer(tmp_path, port=occupied)
    try:
        redis.start()
        assert redis.port != occupied
    finally:
        redis.stop()


def test_postgres_moves_off_a_taken_port(tmp_path, occupied):
    cluster = PostgresCluster(tmp_path, port=occupied)
    try:
        cluster.start()
        assert cluster.port != occupied and cluster.running()
    finally:
        cluster.destroy()
