"""Which Redis the boot waits for: Directus's own REDIS / REDIS_HOST settings (boot/redis_wait.py)."""

from trm_directus.boot.redis_wait import RedisTarget


def test_a_redis_url_with_password_is_parsed_and_masked():
    t = RedisTarget.from_env({"REDIS": "redis://:p%40ss@cache.internal:6380"})
    assert (t.host, t.port, t.password) == ("cache.internal", 6380, "p@ss")
    assert t.url == "redis://:***@cache.internal:6380" and "p@ss" not in t.url


def test_host_settings_are_used_when_there_is_no_url():
    t = RedisTarget.from_env({"REDIS_HOST": "redis", "REDIS_PASSWORD": "x"})
    assert (t.host, t.port, t.password, t.url) == ("redis", 6379, "x", "redis:6379")


def test_no_redis_tls_or_disabled_means_no_wait():
    assert RedisTarget.from_env({}) is None
    assert RedisTarget.from_env({"REDIS": "rediss://secure:6380"}) is None
    assert RedisTarget.from_env({"REDIS": "redis://r:6379", "REDIS_ENABLED": "false"}) is None
