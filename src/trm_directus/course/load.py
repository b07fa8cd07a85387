"""Carry out an import plan through Directus's REST API: batched, all or nothing.

Consecutive operations of one kind on one collection are one request (split only to stay under
Directus's default 1 MB body limit, MAX_PAYLOAD_SIZE). Created rows are matched to their natural
keys from the response (Directus answers a batch in database order, lessons.md). Every write is
journalled; when a request fails the journal is undone newest first — created rows deleted,
updated rows restored, deleted rows re-created with their ids — so nothing is left half-applied.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from .. import console
from ..directus_api import Directus
from ..errors import CourseError, DirectusError
from .plan import Op, Plan, Ref

MAX_BODY = 800_000  # bytes per request body
KEY_FIELDS = {
    "stages": "id,name",
    "segments": "id,stage_id,sort_order",
    "waypoints": "id,segment_id,code",
    "speed_limit_zones": "id",
}
NOT_RESTORED = ("created_at", "updated_at")  # set by Directus itself


def _chunks(items: list[Any], body=lambda item: item) -> list[list[Any]]:
    """`items` split so that the JSON of each part's bodies stays under MAX_BODY."""
    out: list[list[Any]] = [[]]
    size = 0
    for item in items:
        n = len(json.dumps(body(item))) + 1
        if out[-1] and size + n > MAX_BODY:
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

    def resolve(self, value: Any) -> Any:
        if isinstance(value, Ref):
            return self.plan.ids[value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def run(self) -> None:
        for (collection, action), group in itertools.groupby(self.plan.steps, key=lambda op: (op.collection, op.action)):
            ops = list(group)
            path = f"/items/{collection}"
            self.step = f"{action} {len(ops)} {collection}"
            t0 = time.monotonic()
            self._run(collection, action, ops, path)
            console.info(f"   {self.step} ({console.fmt_seconds(time.monotonic() - t0)})")

    def _run(self, collection: str, action: str, ops: list[Op], path: str) -> None:
        if action == "create":
            self.create(collection, ops)
        elif action == "delete":
            for chunk in _chunks([op.payload["id"] for op in ops]):
                self.api.delete(path, chunk)
                self.journal.append(("deleted", collection, [op.payload for op in ops if op.payload["id"] in chunk]))
        else:  # update, place
            for chunk in _chunks([(self.resolve(op.payload), self.resolve(op.before)) for op in ops], lambda pair: pair[0]):
                self.api.patch(path, [payload for payload, _ in chunk], fields="id")
                self.journal.append(("updated", collection, [before for _, before in chunk]))

    def create(self, collection: str, ops: list[Op]) -> None:
        stage_names = {v: k.key[0] for k, v in self.plan.ids.items() if k.collection == "stages"}
        seg_stage = {v: k.key[0] for k, v in self.plan.ids.items() if k.collection == "segments"}
        for chunk in _chunks([self.resolve(op.payload) for op in ops]):
            created = self.api.post(f"/items/{collection}", chunk, fields=KEY_FIELDS[collection])
            self.journal.append(("created", collection, [item["id"] for item in created]))
            for item in created:
                if collection == "stages":
                    self.plan.ids[Ref("stages", (item["name"],))] = item["id"]
                elif collection == "segments":
                    self.plan.ids[Ref("segments", (stage_names[item["stage_id"]], item["sort_order"]))] = item["id"]
                    seg_stage[item["id"]] = stage_names[item["stage_id"]]
                elif collection == "waypoints":
                    self.plan.ids[Ref("waypoints", (seg_stage[item["segment_id"]], item["code"]))] = item["id"]
            stage_names.update({v: k.key[0] for k, v in self.plan.ids.items() if k.collection == "stages"})

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
            else:
                rows = [{k: v for k, v in row.items() if k not in NOT_RESTORED and not isinstance(v, list)} for row in payload]
                self.api.post(path, rows, fields="id")
                recreated += len(rows)
        self.journal.clear()
        return deleted, restored, recreated


def apply(api: Directus, plan: Plan) -> None:
    loader = Loader(api, plan)
    try:
        loader.run()
    except DirectusError as exc:
        step = loader.step
        try:
            deleted, restored, recreated = loader.undo()
        except DirectusError as undo_exc:
            raise CourseError(
                f"course import failed at {step}: {exc.what}; undoing it failed too: {undo_exc.what}",
                "the stage may be partly imported: fix the cause and import again (the import converges on the file)",
                details=exc.details,
            ) from None
        console.info(f"rolled back: {deleted} created row(s) deleted, {restored} restored, {recreated} re-created")
        raise CourseError(
            f"course import failed at {step}: {exc.what}",
            f"nothing is left half-applied (rolled back: {deleted} created row(s) deleted, {restored} updated row(s) restored, "
            f"{recreated} deleted row(s) re-created); fix the cause and import again",
            details=exc.details,
        ) from None
