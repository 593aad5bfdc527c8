"""Opt-in per-series gauges for Grafana: latest value, anomaly score and alert state.

Off by default (``metrics.series_scores``): each series becomes three Prometheus series,
so 100,000 series would be 300,000 on one target. ``metrics.max_series`` caps the series a
worker exports; records of further ones are counted in ``padit_series_export_dropped_total``.
A series is exported by the worker that owns its partition: the newest features and anomaly
record of each series are kept as they are (a dict assignment per record) and decoded only
when Prometheus scrapes; a worker's series are forgotten when its partitions are revoked
(the slices after the rebalance bring back those it still owns).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from padit_stream.schema import fingerprint

__all__ = ["ALERT_STATE_VALUES", "SeriesExport"]

#: Value of ``padit_series_alert_state`` per lifecycle phase.
ALERT_STATE_VALUES = {"inactive": 0.0, "pending": 1.0, "firing": 2.0}


class SeriesExport(Collector):
    """Latest value and score per series of this worker, and its alert phase at scrape time.

    Args:
        features_topic: the features topic (the latest value is its ``last`` field).
        max_series: series exported at most.
        alert_phase: ``(partition, fingerprint) -> phase`` (``None``: never active).

    Example:
        >>> from types import SimpleNamespace as R
        >>> export = SeriesExport("f", max_series=1, alert_phase=lambda p, k: "firing")
        >>> doc = b'{"source_id":"du-1","metric_name":"rtt_ms","last":4.5}'
        >>> export.observe(0, [R(topic="f", key=b"k1", value=doc)])
        >>> export.observe(0, [R(topic="f", key=b"k2", value=doc.replace(b"du-1", b"du-2"))])
        >>> [(m.name, [(s.labels, s.value) for s in m.samples]) for m in export.collect()][0]
        ('padit_series_value', [({'source_id': 'du-1', 'metric_name': 'rtt_ms'}, 4.5)])
        >>> export.dropped
        1
    """

    def __init__(
        self,
        features_topic: str,
        max_series: int,
        alert_phase: Callable[[int, bytes], str | None],
    ) -> None:
        self.features_topic = features_topic
        self.max_series = max_series
        self.alert_phase = alert_phase
        #: partition -> series key -> [newest features record, newest anomaly record]
        self._series: dict[int, dict[bytes, list[bytes | None]]] = {}
        self._count = 0
        #: Records of series not exported because of ``max_series``.
        self.dropped = 0

    def __len__(self) -> int:
        return self._count

    def observe(self, partition: int, records: Sequence[Any]) -> None:
        """Keep the newest features and anomaly record of each series, undecoded.

        Decoding waits for a scrape: the stream pays a dict assignment per record.
        """
        held = self._series.setdefault(partition, {})
        slot = 0 if records and records[0].topic == self.features_topic else 1
        for record in records:
            entry = held.get(record.key)
            if entry is None:
                if self._count >= self.max_series:
                    self.dropped += 1
                    continue
                entry = held[record.key] = [None, None]
                self._count += 1
            entry[slot] = record.value

    def clear(self) -> None:
        """Partitions moved: forget every series (the next slices bring them back)."""
        self._series.clear()
        self._count = 0

    def collect(self) -> Iterator[Metric]:
        labels = ["source_id", "metric_name"]
        value = GaugeMetricFamily(
            "padit_series_value", "Latest value of a series (its newest window).", labels=labels
        )
        score = GaugeMetricFamily(
            "padit_series_anomaly_score", "Latest anomaly score of a series.", labels=labels
        )
        state = GaugeMetricFamily(
            "padit_series_alert_state",
            "Alert phase of a series: 0 inactive, 1 pending, 2 firing.",
            labels=labels,
        )
        for partition, held in list(self._series.items()):
            for features, anomaly in list(held.values()):
                try:
                    f = orjson.loads(features) if features is not None else None
                    a = orjson.loads(anomaly) if anomaly is not None else None
                    doc = f or a or {}
                    names = [str(doc["source_id"]), str(doc["metric_name"])]
                    if f is not None:
                        value.add_metric(names, float(f["last"]))
                    if a is not None:
                        score.add_metric(names, float(a["score"]))
                        key = fingerprint(
                            names[0], names[1], str(a.get("detector") or ""), a.get("labels") or {}
                        ).encode()
                        phase = self.alert_phase(partition, key) or "inactive"
                        state.add_metric(names, ALERT_STATE_VALUES.get(phase, 0.0))
                except Exception:
                    continue  # the stage dead-lettered what does not decode
        yield value
        yield score
        yield state
        dropped = CounterMetricFamily(
            "padit_series_export_dropped",
            "Records of series not exported because metrics.max_series was reached.",
        )
        dropped.add_metric([], self.dropped)
        yield dropped
