"""A client that reads and writes through the balancer while a test breaks an instance (bounded in count and time)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field


@dataclass
class Answer:
    kind: str  # read or write
    status: int  # 0: no HTTP answer at all (connection refused or reset, timeout)
    plate: str = ""  # the write's unique key
    error: str = ""


@dataclass
class Traffic:
    """One reader and one writer thread on `url` until stop(), at most `max_seconds` and `max_requests` each.

    Writes create vehicles with a unique plate (vehicles have no unique column: a write that ran twice
    would show as two rows)."""

    url: str
    token: str
    max_seconds: float = 240
    max_requests: int = 20_000
    answers: list[Answer] = field(default_factory=list)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(kind,), daemon=True) for kind in ("read", "write")]
        self._lock = threading.Lock()

    def __enter__(self) -> Traffic:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)

    def _request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                resp.read()
                return resp.status, ""
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()[:200].decode(errors="replace")
        except OSError as exc:
            return 0, f"{type(exc).__name__}: {exc}"

    def _loop(self, kind: str) -> None:
        deadline = time.monotonic() + self.max_seconds
        for i in range(self.max_requests):
            if self._stop.is_set() or time.monotonic() > deadline:
                return
            if kind == "read":
                status, error = self._request("GET", "/items/vehicles?limit=5&fields=id,plate")
                answer = Answer("read", status, error=error)
            else:
                plate = f"T{self.run_id}-{i}"
                body = {"make": "Toyota", "model": "Hilux", "year": 2020, "cc": 2400, "plate": plate}
                status, error = self._request("POST", "/items/vehicles", body)
                answer = Answer("write", status, plate=plate, error=error)
            with self._lock:
                self.answers.append(answer)

    # -- what happened ------------------------------------------------------------------------------

    def of(self, kind: str) -> list[Answer]:
        return [a for a in self.answers if a.kind == kind]

    def failed(self, kind: str) -> list[Answer]:
        return [a for a in self.of(kind) if not 200 <= a.status < 300]

    def acknowledged_plates(self) -> list[str]:
        return [a.plate for a in self.of("write") if 200 <= a.status < 300]

    def summary(self) -> str:
        reads, writes = self.of("read"), self.of("write")
        return (
            f"{len(reads)} reads ({len(self.failed('read'))} failed), {len(writes)} writes "
            f"({len(writes) - len(self.failed('write'))} answered 2xx, {len(self.failed('write'))} not)"
        )
