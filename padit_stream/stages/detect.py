"""features → detectors → anomalies: the detection stage, one partition slice at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from padit_stream.core.cache import StateCache
from padit_stream.detectors import Detector
from padit_stream.detectors.persist import PersistedDetector
from padit_stream.errors import DecodeError
from padit_stream.schema import (
    FEATURES_FIELDS,
    Anomaly,
    decode_record,
    features_observation,
)
from padit_stream.stages import Emit, internal_error

__all__ = ["Detect", "decide"]

STAGE = "detect"
Row = tuple[bytes, bytes | None]


def decide(score: float, threshold: float) -> tuple[bool, float]:
    """The anomaly decision and its confidence: the distance from the threshold, in [0, 1].

    Example:
        >>> decide(0.9, 0.5), decide(0.5, 0.5), decide(0.0, 0.5)
        ((True, 0.8), (False, 0.0), (False, 1.0))
    """
    scale = max(threshold, 1 - threshold)
    return score > threshold, min(1.0, abs(score - threshold) / scale)


@dataclass
class Detect:
    """Score every features record; publish every evaluation, flagged when anomalous.

    Args:
        detectors: each series' detector (persisted as a snapshot plus the inputs since).
        emit: where anomalies and dead letters go.
        anomalies_topic: name of the anomalies topic.
        threshold: an evaluation is an anomaly when its score is above this.
    """

    detectors: StateCache[Any, PersistedDetector[Detector]]
    emit: Emit
    anomalies_topic: str
    threshold: float = 0.5

    def reset(self, partition: int) -> None:
        self.detectors.drop_partition(partition)

    def __call__(self, partition: int, records: Sequence[Any]) -> None:
        emit = self.emit
        add = emit.add
        get = self.detectors.get
        anomalies = self.anomalies_topic
        threshold = self.threshold
        touched: dict[bytes, PersistedDetector[Detector]] = {}
        for i, record in enumerate(records):
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
                is_anomaly, confidence = decide(score, threshold)
                add(
                    anomalies,
                    partition,
                    key,
                    Anomaly(
                        timestamp=doc["window_end"],
                        source_id=doc["source_id"],
                        metric_name=doc["metric_name"],
                        score=score,
                        is_anomaly=is_anomaly,
                        confidence=confidence,
                        evidence=verdict.evidence,
                        detector=detector.name,
                    ).encode(),
                )
            except DecodeError as exc:
                emit.dead_letter(record, exc.reason, STAGE)
            except Exception as exc:  # a bug must cost one record, not the worker
                emit.dead_letter(record, internal_error(exc), STAGE)
                self._recover(partition, record.key, records[:i], touched)
        rows: list[Row] = []
        for state in touched.values():
            rows += state.flush()
        if rows:
            self.detectors.rows.write(partition, rows)
        self.checkpoint_evicted()

    def _recover(
        self,
        partition: int,
        key: bytes,
        before: Sequence[Any],
        touched: dict[bytes, PersistedDetector[Detector]],
    ) -> None:
        """Rebuild a detector a bug may have left half-updated: its rows, then the records of
        this slice that came before (their anomalies are out already)."""
        self.detectors.drop(key)
        touched.pop(key, None)
        if not isinstance(key, bytes):
            return
        state = self.detectors.get(partition, key)
        for record in before:
            if record.key != key or state.seen(record.offset):
                continue
            try:
                x = features_observation(decode_record(record.value, FEATURES_FIELDS))
            except DecodeError:
                continue
            state.detector.explain_one(x)
            state.detector.learn_one(x)
            if state.detector.stateful:
                state.evaluated(record.value, record.offset)
                touched[key] = state

    def checkpoint_evicted(self) -> None:
        """Snapshot the detectors leaving memory, so reading them back replays nothing.

        One write per partition.
        """
        leaving: dict[int, list[Row]] = {}
        for _, part, state in self.detectors.trim():
            leaving.setdefault(part, []).extend(state.checkpoint())
        for part, part_rows in leaving.items():
            if part_rows:
                self.detectors.rows.write(part, part_rows)
