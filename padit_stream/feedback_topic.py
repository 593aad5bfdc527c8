"""The feedback topic (``padit.feedback.v1``, compacted, keyed by verdict id): read it whole.

Both ``padit tune`` and the API's ``GET /api/v1/feedback`` read the latest state of every
verdict from the topic itself: it is small (one record per verdict after compaction), and
a verdict written before the read is in it (read-your-writes with ``acks=all``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from padit_stream.errors import DecodeError
from padit_stream.feedback import Feedback, decode_feedback, latest_by_id
from padit_stream.topic_reader import open_consumer, partitions_of

__all__ = ["load_feedback", "read_feedback"]

log = logging.getLogger(__name__)

_POLL_MS = 500


async def load_feedback(
    bootstrap: str, topic: str, security: Mapping[str, Any] | None = None
) -> list[Feedback]:
    """The latest state of every verdict (withdrawn ones included), sorted by id.

    A record that is not a valid verdict is logged and skipped.
    """
    security = security or {}
    consumer = await open_consumer(bootstrap, security)
    records: list[tuple[bytes | None, Feedback | None]] = []
    try:
        tps = await partitions_of(bootstrap, topic, security)
        starts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        pending = {tp: end for tp, end in ends.items() if end > starts[tp]}
        consumer.assign(list(pending))
        for tp in pending:
            consumer.seek(tp, starts[tp])
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=_POLL_MS)
            for recs in batch.values():
                for rec in recs:
                    try:
                        records.append((rec.key, decode_feedback(rec.key, rec.value)))
                    except DecodeError as exc:
                        log.warning("%s offset %d skipped: %s", topic, rec.offset, exc)
            for tp in list(pending):
                if await consumer.position(tp) >= pending[tp]:
                    del pending[tp]
    finally:
        await consumer.stop()
    return sorted(latest_by_id(records).values(), key=lambda v: v.id)


def read_feedback(
    bootstrap: str, topic: str, security: Mapping[str, Any] | None = None
) -> list[Feedback]:
    """:func:`load_feedback` from synchronous code."""
    return asyncio.run(load_feedback(bootstrap, topic, security))
