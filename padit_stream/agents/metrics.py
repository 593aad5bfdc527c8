"""metrics → per-series windows (RocksDB table) → features."""

from __future__ import annotations

from typing import Any

from padit_stream.agents.deadletter import dead_letter
from padit_stream.app import app, settings
from padit_stream.core.records import encode_features
from padit_stream.core.series import SeriesState
from padit_stream.core.wire import decode_metric, metric_key
from padit_stream.errors import DecodeError, LateSampleError
from padit_stream.tables import sender, windows
from padit_stream.topics import dead_letter_topic, features_topic, metrics_topic

__all__ = ["ingest"]


@app.agent(metrics_topic, name="padit.ingest")
async def ingest(stream: Any) -> None:
    """Window every metric; emit features on the configured event-time cadence."""
    batch_size = settings.app.batch_size
    within = settings.app.batch_timeout_sec
    features = features_topic.get_topic_name()
    add = sender.add
    # Sink-only topics are not declared by Faust's conductor; create them before first use.
    await dead_letter_topic.maybe_declare()
    async for events in stream.take_events(batch_size, within=within):
        touched: dict[bytes, tuple[int, SeriesState]] = {}
        for event in events:
            message = event.message
            try:
                metric = decode_metric(message.value)
            except DecodeError as exc:
                dead_letter(event, exc.reason, "decode")
                continue
            key = metric_key(metric.source_id, metric.metric_name)
            if message.key != key:
                # Keyed wrongly (or not at all) by its producer: send it once more with the
                # right key, so it reaches the partition that owns its window.
                metrics_topic.send_soon(key=key, value=message.value)
                continue
            partition = message.partition
            state = windows.get(partition, key)
            try:
                found = state.add(metric.timestamp, metric.value, message.offset)
            except LateSampleError as exc:
                dead_letter(event, str(exc), "window")
                continue
            touched[key] = (partition, state)
            if found is not None:
                # Same key, same partition count: features stay in the input's partition.
                add(
                    features,
                    partition,
                    key,
                    encode_features(metric.source_id, metric.metric_name, found),
                )
        for partition, state in touched.values():
            windows.rows.write(partition, state.flush())
        await sender.flush()
