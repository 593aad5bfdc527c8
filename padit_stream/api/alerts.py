"""``/api/v1/alerts``: firing, pending and recently resolved alerts, and one in detail.

Firing and resolved alerts (and their incidents) are kept by the notification stage, which
one worker owns; pending ones are in the lifecycle state of every worker's partitions. The
worker asked gathers both (:meth:`ApiView.fan_out`), so any worker answers the list; the
detail is answered by the stage's owner.
"""

from __future__ import annotations

from typing import Any

from faust.web import Request, Response

from padit_stream.api import alerting_adapter
from padit_stream.api.base import LOCAL_HEADER, ApiView
from padit_stream.api.errors import ApiError
from padit_stream.cluster import is_local, owner_of

__all__ = ["AlertListView", "AlertView"]

STATUSES = ("firing", "pending", "resolved")


class AlertListView(ApiView):
    """``GET /api/v1/alerts``."""

    async def get(self, request: Request) -> Response:
        params = self.params(request)
        status = params.choice("status", STATUSES)
        severity = params.text("severity")
        source = params.text("source")
        receiver = params.text("receiver")
        silenced = params.boolean("silenced")
        inhibited = params.boolean("inhibited")
        params.done()
        if request.headers.get(LOCAL_HEADER):
            return self.answer(self._local())
        tables = [self.stream.tables.alert_states, self.stream.tables.notify]
        docs = await self.fan_out(request, self._local, tables)
        answered = {p for doc in docs for p in doc["partitions"]}
        missing = set(range(self.stream.settings.topics.partitions)) - answered
        kept = [doc["alerts"] for doc in docs if doc["alerts"] is not None]
        if missing or not kept:
            raise ApiError.unavailable("partitions are moving; ask again shortly")
        items = [*kept[0], *(a for doc in docs for a in doc["pending"])]

        def wanted(a: dict[str, Any]) -> bool:
            return (
                (status is None or a["status"] == status)
                and (severity is None or a["severity"] == severity)
                and (source is None or a["labels"].get("source_id") == source)
                and (receiver is None or receiver in a["receivers"])
                and (silenced is None or bool(a["silenced_by"]) == silenced)
                and (inhibited is None or bool(a["inhibited_by"]) == inhibited)
            )

        items = sorted(
            (a for a in items if wanted(a)), key=lambda a: (a["starts_at"] or "", a["id"])
        )
        items.reverse()
        return self.answer({"items": items})

    def _local(self) -> dict[str, Any]:
        self.check_ready()
        stream = self.stream
        partitions = self.local_partitions(stream.tables.alert_states)
        owner = owner_of(self.app, stream.tables.notify, 0)
        return {
            "partitions": partitions,
            "pending": alerting_adapter.pending_alerts(stream, partitions),
            "alerts": alerting_adapter.list_alerts(stream) if is_local(self.app, owner) else None,
        }


class AlertView(ApiView):
    """``GET /api/v1/alerts/{alert_id}`` (notification links point here)."""

    async def get(self, request: Request, alert_id: str) -> Response:
        self.params(request).done()
        routed = await self.to_owner(request, self.stream.tables.notify, 0)
        if routed is not None:
            return routed
        self.check_ready()
        doc = alerting_adapter.alert_detail(self.stream, alert_id)
        if doc is None:
            raise ApiError.not_found(
                f"no alert {alert_id!r} (resolved alerts are kept for the retention; "
                "see GET /api/v1/alerts)"
            )
        return self.answer(doc)
