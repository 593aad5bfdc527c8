"""Who owns what, and whether this worker is ready and healthy.

Ownership comes from Faust's table router (which worker holds which changelog partition
actively); readiness from the consumer's assignment and the tables' recovery; health from
whether the stream still makes progress while input is waiting.
"""

from __future__ import annotations

from typing import Any

__all__ = ["health", "is_local", "local_url", "owner_of", "readiness", "recovered"]


def local_url(app: Any) -> str:
    return str(app.conf.canonical_url).rstrip("/")


def owner_of(app: Any, table: Any, partition: int) -> str | None:
    """Web URL of the worker that holds ``partition`` of ``table`` (actively), if known."""
    topic = table.changelog_topic.get_topic_name()
    for url, topics in app.router.table_metadata(table.name).items():
        if partition in topics.get(topic, ()):
            return str(url).rstrip("/")
    return None


def is_local(app: Any, url: str | None) -> bool:
    return url is not None and url == local_url(app)


def recovered(app: Any) -> bool:
    """Whether the tables finished recovering from their changelogs."""
    # Private Faust API (guarded by tests/unit/test_faust_internals.py).
    return bool(app.tables.recovery.completed.is_set())


def readiness(app: Any) -> dict[str, Any]:
    try:
        assigned = len(app.consumer.assignment())
    except Exception:
        assigned = 0
    return {
        "connected": assigned > 0,
        "partitions_assigned": assigned,
        "rebalancing": bool(app.rebalancing),
        "tables_recovered": recovered(app),
    }


def health(app: Any, stall_timeout: float) -> tuple[bool, dict[str, Any]]:
    """Whether the worker is alive *and working*; the reason when it is not.

    Unhealthy: the app crashed, or input is waiting and nothing was processed for
    ``stall_timeout`` seconds (a crashed or stuck consumer, producer or agent). A liveness
    probe restarts such a worker instead of keeping a zombie in service.
    """
    info: dict[str, Any] = {}
    crashed = getattr(app, "crash_reason", None)
    if crashed is not None:
        return False, {"status": "crashed", "reason": repr(crashed)[:300]}
    consumer: Any = getattr(app, "_consumer", None)
    stalled: float = consumer.stalled_for() if hasattr(consumer, "stalled_for") else 0.0
    info["stalled_sec"] = round(stalled, 1)
    sender = getattr(app, "sender", None)
    if sender is not None:
        info["sender"] = dict(sender.stats)
    if stalled > stall_timeout:
        info.update(status="stalled", reason=f"input waiting, no progress for {stalled:.0f} s")
        return False, info
    info["status"] = "ok"
    return True, info
