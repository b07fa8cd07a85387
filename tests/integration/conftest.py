"""Fixtures for integration tests that need a running Directus (`stack` itself: tests/conftest.py)."""

from __future__ import annotations

import pytest

from trm_directus.directus.api import Directus


@pytest.fixture(scope="module")
def api(stack) -> Directus:
    """The stack's REST API with its admin token."""
    return Directus(stack.url, stack.info.admin_token)


@pytest.fixture
def g(api):
    """Creates valid rows through the API with fresh natural keys (tests/integration/graph.py)."""
    from tests.integration.graph import Graph

    return Graph(api)
