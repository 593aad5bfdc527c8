"""The worker's web view: health, readiness and table state queries."""

from __future__ import annotations

import math
from typing import Any

from faust.web import Request, Response, View

from padit_stream.app import app, settings
from padit_stream.core.wire import metric_key, partition_for_key
from padit_stream.tables import window_rows, windows

__all__ = ["HealthView", "ReadyView", "WindowView"]


@app.page("/health")
class HealthView(View):
    """Alive: the process answers."""

    async def get(self, request: Request) -> Response:
        return self.json({"status": "ok"})


def _readiness() -> dict[str, Any]:
    consumer = app.consumer
    try:
        assigned = len(consumer.assignment())
    except Exception:
        assigned = 0
    recovery = app.tables.recovery  # type: ignore[attr-defined]
    recovered = recovery.completed.is_set()
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


def _canonical(url: Any) -> str:
    return str(url).rstrip("/")


def _owner_of(partition: int) -> str | None:
    """Web URL of the worker that holds ``partition`` of the windows table (actively)."""
    topic = window_rows.changelog_topic.get_topic_name()
    for url, topics in app.router.table_metadata(window_rows.name).items():
        if partition in topics.get(topic, ()):
            return _canonical(url)
    return None


async def _forward(view: View, request: Request, owner: str) -> Response:
    # One hop only ("routed"): during a rebalance two workers may disagree on the owner.
    url = f"{owner}{request.url.path}?routed=1"
    async with app.http_client.get(url) as response:
        return view.text(
            await response.text(), content_type=response.content_type, status=response.status
        )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@app.page("/windows/{source_id}/{metric_name}")
class WindowView(View):
    """The current window of one series, answered by the worker that owns it."""

    async def get(self, request: Request, source_id: str, metric_name: str) -> Response:
        key = metric_key(source_id, metric_name)
        partition = partition_for_key(key, settings.topics.partitions)
        owner = _owner_of(partition)
        if owner is None:
            return self.json(
                {"error": "not ready", "detail": "partitions are not assigned yet"}, status=503
            )
        if owner != _canonical(app.conf.canonical_url) and "routed" not in request.query:
            return await _forward(self, request, owner)
        state = windows.peek(key)
        if state is None:
            state = windows.get(partition, key)
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
                "worker": str(app.conf.canonical_url),
                "count": len(state.window),
                "first_timestamp": state.window.first_ts,
                "last_timestamp": state.window.max_ts,
                "last_emit": _finite(state.last_emit),
                "features": features._asdict() if features else None,
            }
        )
