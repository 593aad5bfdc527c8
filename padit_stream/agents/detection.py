"""features → detectors (state in a RocksDB table) → anomalies."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from padit_stream.agents.deadletter import dead_letter
from padit_stream.app import app, settings
from padit_stream.core.records import (
    FEATURES_FIELDS,
    decode_record,
    encode_anomaly,
    features_observation,
)
from padit_stream.detectors import Detector
from padit_stream.detectors.persist import PersistedDetector
from padit_stream.errors import DecodeError
from padit_stream.tables import detector_states, sender
from padit_stream.topics import anomalies_topic, features_topic

__all__ = ["detect"]

logger = logging.getLogger(__name__)

_ANOMALIES = anomalies_topic.get_topic_name()
_THRESHOLD = settings.detection.anomaly_threshold
# Distance from the decision boundary, scaled to [0, 1].
_CONFIDENCE_SCALE = max(_THRESHOLD, 1 - _THRESHOLD)


@app.bulk_agent(features_topic, name="padit.detect")
def detect(partition: int, records: Sequence[Any]) -> None:
    """Score every features record; publish every evaluation, flagged when anomalous."""
    add = sender.add
    get = detector_states.get
    touched: dict[bytes, PersistedDetector[Detector]] = {}
    for record in records:
        try:
            doc = decode_record(record.value, FEATURES_FIELDS)
            key = record.key
            state = get(partition, key)
            if state.seen(record.offset):
                continue  # redelivered after a crash: learned from (and published) already
            detector = state.detector
            x = features_observation(doc)
            verdict = detector.explain_one(x)
            detector.learn_one(x)
            if detector.stateful:
                # The input is persisted, not the whole detector (see detectors.persist).
                state.evaluated(record.value, record.offset)
                touched[key] = state
            score = verdict.score
            add(
                _ANOMALIES,
                partition,
                key,
                encode_anomaly(
                    timestamp=doc["window_end"],
                    source_id=doc["source_id"],
                    metric_name=doc["metric_name"],
                    score=score,
                    is_anomaly=score > _THRESHOLD,
                    confidence=min(1.0, abs(score - _THRESHOLD) / _CONFIDENCE_SCALE),
                    evidence=verdict.evidence,
                    detector=detector.name,
                ),
            )
        except DecodeError as exc:
            dead_letter(record, exc.reason, "detect")
        except Exception as exc:  # a bug must cost one record, not the worker
            logger.exception("detect failed on %s[%d]@%d", record.topic, partition, record.offset)
            dead_letter(record, f"internal error: {exc!r}", "detect")
    rows: list[tuple[bytes, bytes | None]] = []
    for state in touched.values():
        rows += state.flush()
    if rows:
        detector_states.rows.write(partition, rows)
    # Detectors leaving memory are snapshotted, so reading them back replays nothing; one
    # write per partition, as above.
    leaving: dict[int, list[tuple[bytes, bytes | None]]] = {}
    for _, part, state in detector_states.trim():
        leaving.setdefault(part, []).extend(state.checkpoint())
    for part, part_rows in leaving.items():
        if part_rows:
            detector_states.rows.write(part, part_rows)
