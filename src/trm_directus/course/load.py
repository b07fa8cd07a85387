"""Carry out an import plan through Directus's REST API: batched, all or nothing.

Consecutive operations of one kind on one collection are one step: one request, or PARALLEL
concurrent requests for larger steps (also split to stay under Directus's default 1 MB body
limit, MAX_PAYLOAD_SIZE). Created rows are matched to their natural
keys from the response (Directus answers a batch in database order, lessons.md). Every write is
journalled *before* its request is sent (created rows get their uuid here, not from Directus), so
when anything stops the run — an error, an unexpected response, Ctrl-C or SIGTERM — the journal
is undone newest first, the request in flight included: created rows deleted, updated rows
restored, deleted rows re-created with their ids (those that are gone) — nothing is left
half-applied. Only kill -9 leaves a partial import, which the next run completes (natural keys).
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from .. import console, signals
from ..directus.api import Directus
from ..errors import CourseError, TrmError
from .plan import Plan, Ref

MAX_BODY = 800_000  # bytes per request body
PARALLEL = 2  # concurrent requests per step: Directus's hooks run in Node, the writes in PostgreSQL (2 cores)
MIN_ROWS = 20  # a step of fewer rows (and a body under MIN_BODY) is one request
MIN_BODY = 100_000
KEY_FIELDS = {
    "stages": "id,name",
    "segments": "id,stage_id,sort_order",
    "waypoints": "id,segment_id,code",
    "speed_limit_zones": "id",
}
NOT_RESTORED = ("created_at", "updated_at")  # set by Directus itself


def _chunks(items: list[Any], body=lambda item: item) -> list[list[Any]]:
    """`items` in PARALLEL parts of about equal size (one part for a small step), more where a
    part's JSON body would exceed MAX_BODY."""
    sizes = [len(json.dumps(body(item))) + 1 for item in items]
    worth_it = len(items) >= 2 and (len(items) >= 2 * MIN_ROWS or sum(sizes) >= MIN_BODY)
    parts = max(math.ceil(sum(sizes) / MAX_BODY), PARALLEL if worth_it else 1)
    target = sum(sizes) / parts
    out: list[list[Any]] = [[]]
    size = 0
    for item, n in zip(items, sizes, strict=True):
        if out[-1] and (size + n > MAX_BODY or (size + n / 2 > target and len(out) < parts)):
            out.append([])
            size = 0
        out[-1].append(item)
        size += n
    return out


class Loader:
    def __init__(self, api: Directus, plan: Plan) -> None:
        self.api = api
        self.plan = plan
        self.journal: list[tuple[str, str, list[Any]]] = []
        self.step = ""  # the request in progress, for the error message
        self.lock = threading.Lock()

    def resolve(self, value: Any) -> Any:
        if isinstance(value, Ref):
            return self.plan.ids[value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def run(self) -> None:
        for (collection, action), group in itertools.groupby(self.plan.steps, key=lambda op: (op.collection, op.action)):
            ops = list(group)
            self.step = f"{action} {len(ops)} {collection}"
            t0 = time.monotonic()
            if action == "create":
                chunks = _chunks([self.resolve(op.payload) for op in ops])
                self._parallel(lambda chunk, c=collection: self._create(c, chunk), chunks)
            elif action == "delete":
                chunks = _chunks([op.payload for op in ops], lambda row: row["id"])
                self._parallel(lambda chunk, c=collection: self._delete(c, chunk), chunks)
            else:  # update, place
                chunks = _chunks([(self.resolve(op.payload), self.resolve(op.before)) for op in ops], lambda pair: pair[0])
                self._parallel(lambda chunk, c=collection: self._update(c, chunk), chunks)
            console.info(f"   {self.step}: {len(chunks)} request(s), {console.fmt_seconds(time.monotonic() - t0)}")

    def _parallel(self, send: Callable[[list[Any]], None], chunks: list[list[Any]]) -> None:
        """Send the chunks, PARALLEL at a time. One chunk goes from this (the main) thread, so Ctrl-C
        or SIGTERM interrupts its request at once. When the run is interrupted while helper threads
        send, the chunks not started are cancelled and the ones in flight are awaited (bounded by
        the API's request timeout, shielded) before the undo starts, so no write lands after it."""
        if len(chunks) == 1:
            send(chunks[0])
            return
        pool = ThreadPoolExecutor(PARALLEL)
        try:
            futures = [pool.submit(send, chunk) for chunk in chunks]
            wait(futures)
        except BaseException:
            with signals.shielded("the course import's requests in flight"):
                pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        for future in futures:
            future.result()

    def _create(self, collection: str, rows: list[dict[str, Any]]) -> None:
        rows = [{**row, "id": row.get("id") or str(uuid.uuid4())} for row in rows]
        with self.lock:
            self.journal.append(("created", collection, [row["id"] for row in rows]))
        created = self.api.post(f"/items/{collection}", rows, fields=KEY_FIELDS[collection])
        with self.lock:
            stage_names = {v: k.key[0] for k, v in self.plan.ids.items() if k.collection == "stages"}
            seg_stage = {v: k.key[0] for k, v in self.plan.ids.items() if k.collection == "segments"}
            for item in created:  # Directus answers in database order: match by natural key
                if collection == "stages":
                    self.plan.ids[Ref("stages", (item["name"],))] = item["id"]
                elif collection == "segments":
                    self.plan.ids[Ref("segments", (stage_names[item["stage_id"]], item["sort_order"]))] = item["id"]
                elif collection == "waypoints":
                    self.plan.ids[Ref("waypoints", (seg_stage[item["segment_id"]], item["code"]))] = item["id"]

    def _delete(self, collection: str, rows: list[dict[str, Any]]) -> None:
        with self.lock:
            self.journal.append(("deleted", collection, rows))
        self.api.delete(f"/items/{collection}", [row["id"] for row in rows])

    def _update(self, collection: str, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        with self.lock:
            self.journal.append(("updated", collection, [before for _, before in pairs]))
        self.api.patch(f"/items/{collection}", [payload for payload, _ in pairs], fields="id")

    def undo(self) -> tuple[int, int, int]:
        """Revert this run's writes, newest first; (deleted, restored, re-created) row counts."""
        deleted = restored = recreated = 0
        for action, collection, payload in reversed(self.journal):
            path = f"/items/{collection}"
            if action == "created":
                self.api.delete(path, payload)
                deleted += len(payload)
            elif action == "updated":
                self.api.patch(path, payload, fields="id")
                restored += len(payload)
            else:  # re-create what is gone (the journal also holds a delete that never reached Directus)
                present = {r["id"] for r in self.api.get_in(path, "id", [row["id"] for row in payload], fields="id", limit=-1)}
                rows = [
                    {k: v for k, v in row.items() if k not in NOT_RESTORED and not isinstance(v, list)}
                    for row in payload
                    if row["id"] not in present
                ]
                if rows:
                    self.api.post(path, rows, fields="id")
                recreated += len(rows)
        self.journal.clear()
        return deleted, restored, recreated


def apply(api: Directus, plan: Plan) -> None:
    loader = Loader(api, plan)
    try:
        loader.run()
    except BaseException as exc:
        raise _failed(loader, exc) from None


def _failed(loader: Loader, exc: BaseException) -> CourseError:
    """Undo the run's journal and describe the failure: the original error first, then the undo."""
    what, details = signals.stopped_by(exc, "course import failed", "course import interrupted", loader.step)
    try:
        with signals.shielded("the course import's undo"):
            deleted, restored, recreated = loader.undo()
    except BaseException as undo_exc:
        why = undo_exc.what if isinstance(undo_exc, TrmError) else f"{type(undo_exc).__name__}: {undo_exc}"
        return CourseError(
            f"{what}; undoing it failed too ({why})",
            "the stage may be partly imported: import the same file again once Directus answers (the import converges "
            "on the file)",
            details=details,
        )
    console.info(f"rolled back: {deleted} created row(s) deleted, {restored} restored, {recreated} re-created")
    return CourseError(
        what,
        f"nothing is left half-applied (rolled back: {deleted} created row(s) deleted, {restored} updated row(s) restored, "
        f"{recreated} deleted row(s) re-created); fix the cause and import again",
        details=details,
    )
