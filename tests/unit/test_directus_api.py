"""The REST client against a real local HTTP server: Directus's 503 "Under pressure" is retried."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from trm_directus.directus.api import RETRIES_503, Directus
from trm_directus.errors import DirectusError


def serve(statuses: list[int]):
    """A server answering GET with the next status of `statuses` (then 200); returns (url, calls, stop)."""
    calls: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            calls.append(self.path)
            status = statuses.pop(0) if statuses else 200
            body = (
                {"data": {"ok": True}}
                if status == 200
                else {"errors": [{"message": 'Service "api" is unavailable. Under pressure.'}]}
            )
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", calls, server.shutdown


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr("trm_directus.directus.api.RETRY_DELAY", 0.001)


def test_a_503_under_pressure_is_retried_and_counted_as_one_request():
    url, calls, stop = serve([503, 503])
    try:
        api = Directus(url, "token")
        assert api.get("/items/x") == {"ok": True}
        assert len(calls) == 3 and api.requests == 1
    finally:
        stop()


def test_a_lasting_503_is_reported():
    url, calls, stop = serve([503] * (RETRIES_503 + 1))
    try:
        with pytest.raises(DirectusError, match="HTTP 503"):
            Directus(url, "token").get("/items/x")
        assert len(calls) == RETRIES_503 + 1
    finally:
        stop()
