"""How an import step is split into requests (no services)."""

from __future__ import annotations

import json

from trm_directus.course import load


def test_a_small_step_is_one_request():
    assert load._chunks([{"id": i} for i in range(10)]) == [[{"id": i} for i in range(10)]]


def test_a_large_step_is_split_in_parallel_parts_of_about_equal_size():
    items = [{"id": i} for i in range(399)]
    parts = load._chunks(items)
    assert len(parts) == load.PARALLEL and [x for p in parts for x in p] == items
    sizes = [len(json.dumps(p)) for p in parts]
    assert max(sizes) - min(sizes) <= 0.02 * sum(sizes)  # equal bodies, not equal counts


def test_no_request_body_exceeds_the_limit():
    routes = [{"route": [[19.1234567, 41.1234567]] * 12_000} for _ in range(7)]  # ~300 KB each
    parts = load._chunks(routes)
    assert all(len(json.dumps(p)) < load.MAX_BODY for p in parts) and len(parts) >= 3
    assert [x for p in parts for x in p] == routes
