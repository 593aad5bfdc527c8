"""The worker's web view: health, readiness, table state, silences and delivery figures.

Each request about state is answered by the worker that owns it: the window of a series by
the owner of its partition, the alerting API by the owner of the notification stage; any
other worker forwards the request once.
"""

from __future__ import annotations

import hmac
import math
import os
from typing import Any

import aiohttp
from faust.web import Request, Response, View

from padit_stream.alerting import SilenceError, SilenceNotFoundError
from padit_stream.app import app, settings
from padit_stream.core.wire import metric_key, partition_for_key
from padit_stream.tables import (
    is_local,
    notification,
    notify_rows,
    owner_of,
    sender,
    window_rows,
    windows,
)

__all__ = [
    "ClusterView",
    "DeliveryView",
    "HealthView",
    "ReadyView",
    "SilenceView",
    "SilencesView",
    "WindowView",
]

_ROUTED = "x-padit-routed"


@app.page("/health")
class HealthView(View):
    """Alive: the process answers."""

    async def get(self, request: Request) -> Response:
        return self.json({"status": "ok"})


def _readiness() -> dict[str, Any]:
    try:
        assigned = len(app.consumer.assignment())
    except Exception:
        assigned = 0
    recovered = app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]
    return {
        "connected": assigned > 0,
        "partitions_assigned": assigned,
        "rebalancing": bool(app.rebalancing),
        "tables_recovered": recovered,
    }


@app.page("/ready")
class ReadyView(View):
    """Ready: connected, partitions assigned, tables recovered, not rebalancing."""

    async def get(self, request: Request) -> Response:
        info = _readiness()
        ready = info["connected"] and info["tables_recovered"] and not info["rebalancing"]
        info["ready"] = ready
        return self.json(info, status=200 if ready else 503)


async def _route(view: View, request: Request, table: Any, partition: int) -> Response | None:
    """``None`` when this worker owns the partition, else the owner's answer (or 503)."""
    owner = owner_of(table, partition)
    if owner is None:
        return view.json(
            {"error": "not ready", "detail": "partitions are not assigned"}, status=503
        )
    if is_local(owner):
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


@app.page("/cluster")
class ClusterView(View):
    """Who owns what: per table, the partitions each worker holds actively."""

    async def get(self, request: Request) -> Response:
        tables = {}
        for name in (window_rows.name, notify_rows.name):
            table = app.tables[name]
            topic = table.changelog_topic.get_topic_name()
            tables[name] = {
                str(url).rstrip("/"): sorted(parts.get(topic, []))
                for url, parts in app.router.table_metadata(name).items()
            }
        return self.json(
            {
                "worker": str(app.conf.canonical_url).rstrip("/"),
                "standby_replicas": settings.app.standby_replicas,
                "tables": tables,
                **_readiness(),
            }
        )


@app.page("/windows/{source_id}/{metric_name}")
class WindowView(View):
    """The current window of one series, answered by the worker that owns it."""

    async def get(self, request: Request, source_id: str, metric_name: str) -> Response:
        key = metric_key(source_id, metric_name)
        partition = partition_for_key(key, settings.topics.partitions)
        routed = await _route(self, request, window_rows, partition)
        if routed is not None:
            return routed
        if app.rebalancing or not app.tables.recovery.completed.is_set():  # type: ignore[attr-defined]
            return self.json(
                {"error": "not ready", "detail": "partitions are moving or recovering"}, status=503
            )
        state = windows.read(partition, key)
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
                "worker": str(app.conf.canonical_url).rstrip("/"),
                "count": len(state.window),
                "first_timestamp": state.window.first_ts,
                "last_timestamp": state.window.max_ts,
                "last_emit": _finite(state.last_emit),
                "features": features._asdict() if features else None,
            }
        )


def _authorized(request: Request) -> tuple[bool, str]:
    var = settings.app.api_token_env
    token = os.environ.get(var, "")
    if not token:
        return False, f"changes are disabled: set {var} on the workers to enable them"
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return False, "missing or wrong token (Authorization: Bearer <token>)"
    return True, ""


async def _to_stage(view: View, request: Request, *, change: bool) -> Response | None:
    """Checks for the alerting API: the token for a change, then routing to the stage's
    owner. ``None`` means this worker answers."""
    if change:
        ok, why = _authorized(request)
        if not ok:
            return view.json({"error": "forbidden", "detail": why}, status=403)
    return await _route(view, request, notify_rows, 0)


@app.page("/silences")
class SilencesView(View):
    """``GET`` lists silences; ``POST`` creates one (token required)."""

    async def get(self, request: Request) -> Response:
        routed = await _to_stage(self, request, change=False)
        if routed is not None:
            return routed
        return self.json({"silences": notification.get().list_silences()})

    async def post(self, request: Request) -> Response:
        routed = await _to_stage(self, request, change=True)
        if routed is not None:
            return routed
        try:
            body = await request.json()
        except ValueError:
            return self.json({"error": "bad request", "detail": "body is not JSON"}, status=400)
        if not isinstance(body, dict):
            return self.json({"error": "bad request", "detail": "expected an object"}, status=400)
        stage = notification.get()
        try:
            silence = stage.create_silence(body)
        except SilenceError as exc:
            return self.json({"error": "invalid silence", "detail": str(exc)}, status=400)
        await sender.flush()
        return self.json(silence.to_api(stage.clock()), status=201)


@app.page("/silences/{silence_id}")
class SilenceView(View):
    """``DELETE`` expires a silence now (token required)."""

    async def delete(self, request: Request, silence_id: str) -> Response:
        routed = await _to_stage(self, request, change=True)
        if routed is not None:
            return routed
        stage = notification.get()
        try:
            silence = stage.expire_silence(silence_id)
        except SilenceNotFoundError:
            return self.json(
                {"error": "not found", "detail": f"no silence {silence_id!r}"}, status=404
            )
        await sender.flush()
        return self.json(silence.to_api(stage.clock()))


@app.page("/alerts/delivery")
class DeliveryView(View):
    """Notification delivery outcomes per integration (sent, retried, failed, pending)."""

    async def get(self, request: Request) -> Response:
        routed = await _to_stage(self, request, change=False)
        if routed is not None:
            return routed
        return self.json(notification.get().delivery_stats())
