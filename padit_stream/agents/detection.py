"""features → detectors (state in a RocksDB table) → anomalies."""

from __future__ import annotations

import pickle
from typing import Any

from padit_stream.agents.deadletter import dead_letter
from padit_stream.app import app, settings
from padit_stream.core.records import decode_record, encode_anomaly, features_observation
from padit_stream.detectors import Detector
from padit_stream.errors import DecodeError
from padit_stream.tables import detector_states, sender
from padit_stream.topics import anomalies_topic, features_topic

__all__ = ["detect"]

_REQUIRED = ("source_id", "metric_name", "window_end", "last")


@app.agent(features_topic, name="padit.detect")
async def detect(stream: Any) -> None:
    """Score every features record; publish every evaluation, flagged when anomalous."""
    threshold = settings.detection.anomaly_threshold
    anomalies = anomalies_topic.get_topic_name()
    add = sender.add
    async for events in stream.take_events(settings.app.batch_size, settings.app.batch_timeout_sec):
        touched: dict[bytes, tuple[int, Detector]] = {}
        for event in events:
            message = event.message
            try:
                doc = decode_record(message.value, _REQUIRED)
            except DecodeError as exc:
                dead_letter(event, exc.reason, "detect")
                continue
            key = message.key
            partition = message.partition
            detector = detector_states.get(partition, key)
            x = features_observation(doc)
            verdict = detector.explain_one(x)
            detector.learn_one(x)
            touched[key] = (partition, detector)
            score = verdict.score
            add(
                anomalies,
                partition,
                key,
                encode_anomaly(
                    timestamp=doc["window_end"],
                    source_id=doc["source_id"],
                    metric_name=doc["metric_name"],
                    score=score,
                    is_anomaly=score > threshold,
                    # Distance from the decision boundary, scaled to [0, 1].
                    confidence=min(1.0, abs(score - threshold) / max(threshold, 1 - threshold)),
                    evidence=verdict.evidence,
                    detector=detector.name,
                ),
            )
        for key, (partition, detector) in touched.items():
            if detector.stateful:
                detector_states.rows.write(partition, [(key, pickle.dumps(detector, protocol=5))])
        await sender.flush()
