"""anomalies → each series' alert lifecycle → alert events: the lifecycle stage.

Partitioned like the anomalies; its transitions (firing, resolved) go to the one-partition
alert-events topic, where the notification stage sees every alert.

Stale alerts (a firing series that went quiet) are resolved on a timer against the event
clock of their partition. The alerts to check come from an index of the non-inactive states
built from the partition's rows the first time the partition is ticked after it was
assigned, so an alert firing before a restart or a rebalance is resolved by whichever worker
owns its partition now (the decoded-state cache starts empty after either).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from padit_stream.alerting import AlertEngine, AlertState
from padit_stream.core.cache import StateCache
from padit_stream.core.clock import EventClocks
from padit_stream.errors import DecodeError
from padit_stream.schema import Alert, Anomaly, decode_record, metric_key
from padit_stream.stages import Emit, internal_error

__all__ = ["AlertLifecycle", "load_alert_state"]

logger = logging.getLogger(__name__)

STAGE = "alert"
_REQUIRED = ("timestamp", "source_id", "metric_name", "score")


def load_alert_state(key: bytes, get: Callable[[bytes], bytes | None]) -> AlertState | None:
    """A series' stored lifecycle state (``None``: never active)."""
    raw = get(key)
    return AlertState.decode(raw) if raw is not None else None


@dataclass
class AlertLifecycle:
    """Advance each series' alert lifecycle with every evaluation; resolve stale ones.

    Args:
        states: each fingerprint's lifecycle state over the alert-states table's rows.
        engine: the lifecycle rules.
        emit: where alert events and dead letters go.
        events_topic: name of the (one-partition) alert-events topic.
        clocks: event time per partition.
        wall: the worker's clock, which bounds the event clocks.
    """

    states: StateCache[Any, AlertState | None]
    engine: AlertEngine
    emit: Emit
    events_topic: str
    clocks: EventClocks
    wall: Callable[[], float] = time.time
    #: partition -> fingerprints whose state is not inactive (see the module docstring).
    active: dict[int, set[bytes]] = field(default_factory=dict, init=False)

    def reset(self, partition: int) -> None:
        self.states.drop_partition(partition)

    def forget(self) -> None:
        """Partitions moved: drop decoded state and the index; both are rebuilt from rows."""
        self.states.clear()
        self.active.clear()

    def _publish(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            self.emit.add(
                self.events_topic,
                0,
                metric_key(alert.source_id, alert.metric_name),
                orjson.dumps(alert.to_dict()),
            )

    def __call__(self, partition: int, records: Sequence[Any]) -> None:
        touched: dict[bytes, AlertState] = {}
        wall = self.wall()
        see = self.clocks.see
        active = self.active.get(partition)
        for i, record in enumerate(records):
            try:
                anomaly = Anomaly.from_dict(decode_record(record.value, _REQUIRED))
                see(partition, anomaly.timestamp, wall)
                key = anomaly.fingerprint.encode()
                before = self.states.get(partition, key)
                state, alerts = self.engine.on_anomaly(before, anomaly)
                # A series that is and stays inactive has nothing worth keeping or persisting.
                if before is not None or state.phase != "inactive":
                    self.states.put(partition, key, state)
                    touched[key] = state
                    if active is not None:
                        if state.phase == "inactive":
                            active.discard(key)
                        else:
                            active.add(key)
                self._publish(alerts)
            except DecodeError as exc:
                self.emit.dead_letter(record, exc.reason, STAGE)
            except Exception as exc:  # a bug must cost one record, not the worker
                self.emit.dead_letter(record, internal_error(exc), STAGE)
                self._recover(partition, record.value, records[:i], touched)
        if touched:
            self.states.rows.write(partition, [(k, s.encode()) for k, s in touched.items()])

    def _recover(
        self,
        partition: int,
        value: Any,
        before: Sequence[Any],
        touched: dict[bytes, AlertState],
    ) -> None:
        """Rebuild the state of the failed record's series from its row and the records of
        this slice that came before (their alerts are out already)."""
        try:
            key = Anomaly.from_dict(decode_record(value, _REQUIRED)).fingerprint.encode()
        except Exception:
            return  # the record did not get far enough to touch any state
        self.states.drop(key)
        touched.pop(key, None)
        state = self.states.get(partition, key)
        for record in before:
            try:
                anomaly = Anomaly.from_dict(decode_record(record.value, _REQUIRED))
            except Exception:
                continue
            if anomaly.fingerprint.encode() == key:
                state, _ = self.engine.on_anomaly(state, anomaly)
        if state is not None:
            self.states.put(partition, key, state)
            touched[key] = state

    def _index(self, partition: int) -> set[bytes]:
        index = set()
        for key, raw in self.states.rows.items(partition):
            try:
                if AlertState.decode(raw).phase != "inactive":
                    index.add(key)
            except DecodeError:
                logger.warning("unreadable alert state %r in partition %d", key[:80], partition)
        self.active[partition] = index
        return index

    def tick(self, partitions: Iterable[int]) -> int:
        """Resolve the alerts whose series went quiet; returns the transitions published."""
        published = 0
        for partition in partitions:
            index = self.active.get(partition)
            if index is None:
                index = self._index(partition)
            now = self.clocks.now(partition)
            rows = []
            for key in list(index):
                state = self.states.get(partition, key)
                if state is None or state.phase == "inactive":
                    index.discard(key)
                    continue
                phase = state.phase
                state, alerts = self.engine.on_tick(state, now)
                if alerts or state.phase != phase:
                    self._publish(alerts)
                    published += len(alerts)
                    self.states.put(partition, key, state)
                    rows.append((key, state.encode()))
                    if state.phase == "inactive":
                        index.discard(key)
            if rows:
                self.states.rows.write(partition, rows)
        return published
