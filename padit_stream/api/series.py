"""``/api/v1/series``: every series the cluster holds, and one series in detail.

Series live on every worker's partitions: the worker asked lists its own and asks every
other member of the group for theirs (:meth:`ApiView.fan_out`), then merges them in key
order. The answer is complete or an error: each member says which partitions it answered
for, and a partition nobody answered for (ownership moving) gives a 503.
"""

from __future__ import annotations

import heapq
from typing import Any

from faust.web import Request, Response

from padit_stream.api import alerting_adapter
from padit_stream.api.base import LOCAL_HEADER, ApiView
from padit_stream.api.errors import ApiError
from padit_stream.api.query import encode_cursor
from padit_stream.api.series_state import STATES, SeriesFilter, detail, list_series
from padit_stream.core.history import VALUES, meta_prefix
from padit_stream.schema import metric_key, partition_for_key

__all__ = ["SeriesListView", "SeriesView"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class SeriesListView(ApiView):
    """``GET /api/v1/series``."""

    async def get(self, request: Request) -> Response:
        params = self.params(request)
        cursor = params.cursor()
        flt = SeriesFilter(
            source=params.text("source"),
            metric=params.text("metric"),
            matchers=tuple(params.matchers("match")),
            state=params.choice("state", STATES),
            after=(cursor[0], cursor[1]) if cursor and len(cursor) == 2 else None,
        )
        if cursor is not None and flt.after is None:
            params.errors.add("cursor", "not a cursor this API gave (use next_cursor as it is)")
        limit = params.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        params.done()
        if request.headers.get(LOCAL_HEADER):
            return self.answer(self._local(flt, limit + 1))
        history = self.stream.tables.history
        docs = await self.fan_out(request, lambda: self._local(flt, limit + 1), [history])
        answered = sorted(p for doc in docs for p in doc["partitions"])
        missing = sorted(set(range(self.stream.settings.topics.partitions)) - set(answered))
        if missing:
            raise ApiError.unavailable(
                f"no worker answered for partitions {missing} (they are moving); ask again"
            )
        merged = list(heapq.merge(*(doc["items"] for doc in docs), key=_order))
        page = merged[:limit]
        more = len(merged) > limit
        next_cursor = encode_cursor(_order(page[-1])) if more and page else None
        return self.answer({"items": page, "next_cursor": next_cursor})

    def _local(self, flt: SeriesFilter, limit: int) -> dict[str, Any]:
        """This worker's first ``limit`` matching series and the partitions it answered for."""
        self.check_ready()
        stream = self.stream
        rows = stream.history.rows
        partitions = self.local_partitions(stream.tables.history)

        def phase(partition: int, source: str, metric: str, detector: str) -> str:
            return alerting_adapter.series_alert_phase(stream, partition, source, metric, detector)

        items = list_series(
            (
                (partition, key, raw)
                for partition in partitions
                for key, raw in rows.scan(partition, meta_prefix(VALUES))
            ),
            rows.get,
            flt=flt,
            alert_phase=phase,
            now=self.ctx.clock(),
            stale_after=stream.settings.history.stale_after_sec,
            threshold=stream.settings.detection.anomaly_threshold,
            limit=limit,
        )
        return {"items": items, "partitions": partitions}


def _order(item: dict[str, Any]) -> tuple[str, str]:
    return item["source_id"], item["metric_name"]


class SeriesView(ApiView):
    """``GET /api/v1/series/{source_id}/{metric_name}``, answered by the owner."""

    async def get(self, request: Request, source_id: str, metric_name: str) -> Response:
        params = self.params(request)
        since = params.time("since")
        until = params.time("until")
        if since is not None and until is not None and since > until:
            params.errors.add("until", "must not be before since")
        params.done()
        stream = self.stream
        key = metric_key(source_id, metric_name)
        partition = partition_for_key(key, stream.settings.topics.partitions)
        routed = await self.to_owner(request, stream.tables.history, partition)
        if routed is not None:
            return routed
        self.check_ready()
        rows = stream.history.rows
        doc = detail(
            key,
            lambda k: rows.get(partition, k),
            stream.history_config,
            stream.windows.read(partition, key).window,
            since=since,
            until=until,
        )
        if doc is None:
            raise ApiError.not_found(
                f"no series source_id={source_id!r} metric_name={metric_name!r} "
                "(see GET /api/v1/series for the ones there are)"
            )
        return self.answer(doc)
