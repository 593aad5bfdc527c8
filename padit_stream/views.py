"""The worker's web view: health, readiness, ownership, a series' window, delivery figures,
and the operator API (:mod:`padit_stream.api`, registered from here).

Each request about state is answered by the worker that owns it: the window of a series by
the owner of its partition, delivery figures by the owner of the notification stage; any
other worker forwards the request once. The old silences paths and alert links redirect
to their ``/api/v1`` successors. The views read the worker's state from
``app.padit`` (:class:`padit_stream.stream.Stream`); :func:`register` adds them to the app.
"""

from __future__ import annotations

import math
from typing import Any

import aiohttp
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST

from padit_stream import api, webui
from padit_stream.cluster import health, is_local, local_url, owner_of, readiness, recovered
from padit_stream.schema import metric_key, partition_for_key
from padit_stream.stream import Stream

__all__ = [
    "ClusterView",
    "DeliveryView",
    "HealthView",
    "MetricsView",
    "MovedView",
    "ReadyView",
    "WindowView",
    "register",
]

_ROUTED = "x-padit-routed"


def _stream(view: View) -> Stream:
    stream: Stream = view.app.padit  # type: ignore[attr-defined]
    return stream


class HealthView(View):
    """Alive and working: 503 once a component crashed or the stream stopped making progress
    while input is waiting (a liveness probe then restarts the worker)."""

    async def get(self, request: Request) -> Response:
        stream = _stream(self)
        ok, info = health(self.app, stream.settings.app.stall_timeout_sec)
        return self.json(info, status=200 if ok else 503)


class ReadyView(View):
    """Ready: connected, partitions assigned, tables recovered, not rebalancing."""

    async def get(self, request: Request) -> Response:
        info = readiness(self.app)
        ready = info["connected"] and info["tables_recovered"] and not info["rebalancing"]
        info["ready"] = ready
        return self.json(info, status=200 if ready else 503)


async def _route(view: View, request: Request, table: Any, partition: int) -> Response | None:
    """``None`` when this worker owns the partition, else the owner's answer (or 503)."""
    app = view.app
    owner = owner_of(app, table, partition)
    if owner is None:
        return view.json(
            {"error": "not ready", "detail": "partitions are not assigned"}, status=503
        )
    if is_local(app, owner):
        return None
    if request.headers.get(_ROUTED):
        # One hop only: during a rebalance two workers may briefly disagree on the owner.
        return view.json(
            {"error": "not ready", "detail": "partition ownership is moving"}, status=503
        )
    headers = {
        k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")
    }
    headers[_ROUTED] = "1"
    body = await request.read()
    try:
        async with app.http_client.request(
            request.method, f"{owner}{request.url.path_qs}", headers=headers, data=body or None
        ) as response:
            return view.text(
                await response.text(), content_type=response.content_type, status=response.status
            )
    except aiohttp.ClientError as exc:
        # The owner died or is moving: the group will reassign its partitions shortly.
        return view.json({"error": "owner unreachable", "detail": f"{owner}: {exc}"}, status=503)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class ClusterView(View):
    """Who owns what: per table, the partitions each worker holds actively."""

    async def get(self, request: Request) -> Response:
        app = self.app
        stream = _stream(self)
        tables = {}
        for name in (stream.tables.windows.name, stream.tables.notify.name):
            table = app.tables[name]
            topic = table.changelog_topic.get_topic_name()
            tables[name] = {
                str(url).rstrip("/"): sorted(parts.get(topic, []))
                for url, parts in app.router.table_metadata(name).items()
            }
        return self.json(
            {
                "worker": local_url(app),
                "standby_replicas": stream.settings.app.standby_replicas,
                "tables": tables,
                **readiness(app),
            }
        )


class WindowView(View):
    """The current window of one series, answered by the worker that owns it."""

    async def get(self, request: Request, source_id: str, metric_name: str) -> Response:
        stream = _stream(self)
        key = metric_key(source_id, metric_name)
        partition = partition_for_key(key, stream.settings.topics.partitions)
        routed = await _route(self, request, stream.tables.windows, partition)
        if routed is not None:
            return routed
        if self.app.rebalancing or not recovered(self.app):
            return self.json(
                {"error": "not ready", "detail": "partitions are moving or recovering"}, status=503
            )
        state = stream.windows.read(partition, key)
        if len(state.window) == 0:
            return self.json(
                {
                    "error": "unknown series",
                    "detail": f"no window for source_id={source_id!r} "
                    f"metric_name={metric_name!r} on this worker (the owner of its partition)",
                },
                status=404,
            )
        features = state.window.features()
        return self.json(
            {
                "source_id": source_id,
                "metric_name": metric_name,
                "worker": local_url(self.app),
                "count": len(state.window),
                "first_timestamp": state.window.first_ts,
                "last_timestamp": state.window.max_ts,
                "last_emit": _finite(state.last_emit),
                "features": features._asdict() if features else None,
            }
        )


class MovedView(View):
    """An old path of the silences and alert links: a permanent redirect (308, which keeps
    the method and body) to its ``/api/v1`` successor."""

    async def _moved(self, request: Request, **parts: str) -> Response:
        tail = "/" + "/".join(parts.values()) if parts else ""
        query = f"?{request.url.query_string}" if request.url.query_string else ""
        base = "/api/v1/alerts" if request.url.path.startswith("/alerts/") else "/api/v1/silences"
        return self.text("", status=308, headers={"Location": f"{base}{tail}{query}"})

    async def get(self, request: Request, **parts: str) -> Response:
        return await self._moved(request, **parts)

    async def post(self, request: Request, **parts: str) -> Response:
        return await self._moved(request, **parts)

    async def delete(self, request: Request, **parts: str) -> Response:
        return await self._moved(request, **parts)


async def _to_stage(view: View, request: Request) -> Response | None:
    """Routing to the notification stage's owner. ``None`` means this worker answers."""
    return await _route(view, request, _stream(view).tables.notify, 0)


class MetricsView(View):
    """Prometheus text exposition of this worker's metrics (padit_stream.telemetry)."""

    async def get(self, request: Request) -> Response:
        body = self.app.telemetry.exposition()  # type: ignore[attr-defined]
        return self.bytes(body, headers={"Content-Type": CONTENT_TYPE_LATEST})


class DeliveryView(View):
    """Notification delivery outcomes per integration (sent, retried, failed, pending),
    counted across restarts: the counters are rows of the notification stage's table."""

    async def get(self, request: Request) -> Response:
        routed = await _to_stage(self, request)
        if routed is not None:
            return routed
        return self.json(_stream(self).notification.get().delivery_stats())


def register(stream: Stream) -> None:
    """Add the web views and the operator API (:mod:`padit_stream.api`) to ``stream.app``."""
    api.register(stream)
    page = stream.app.page
    page("/health")(HealthView)
    page("/ready")(ReadyView)
    page("/cluster")(ClusterView)
    page("/windows/{source_id}/{metric_name}")(WindowView)
    page("/alerts/delivery")(DeliveryView)
    page("/silences")(MovedView)
    page("/silences/{silence_id}")(MovedView)
    page("/alerts/{alert_id}")(MovedView)
    webui.register(stream)
    page("/metrics")(MetricsView)
