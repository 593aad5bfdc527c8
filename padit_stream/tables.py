"""The tables: every piece of stream state, as raw-bytes rows in RocksDB with a changelog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from padit_stream.settings import Settings

__all__ = ["Tables", "create_tables"]


@dataclass(frozen=True)
class Tables:
    """PADIT's tables on one app (Faust tables, read and written through row stores)."""

    windows: Any
    detectors: Any
    alert_states: Any
    notify: Any
    history: Any

    def all(self) -> list[Any]:
        return [self.windows, self.detectors, self.alert_states, self.notify, self.history]


def create_tables(app: Any, settings: Settings) -> Tables:
    """Declare PADIT's tables on ``app`` (partitioned like the topics that feed them)."""
    partitions = settings.topics.partitions

    def table(name: str, help_text: str, parts: int = partitions) -> Any:
        return app.Table(
            name,
            key_type=bytes,  # bytes means the raw serializer, as on the topics
            value_type=bytes,
            partitions=parts,
            help=help_text,
        )

    return Tables(
        windows=table("windows", "Per-series window: meta rows and sample chunk rows."),
        detectors=table(
            "detectors", "Per-series detector: a snapshot and the features evaluated since."
        ),
        alert_states=table(
            "alert-states", "Alert lifecycle state per fingerprint (partitioned like anomalies)."
        ),
        notify=table(
            "alert-notify",
            "Notification stage: groups, silences and the outbox of undelivered notifications.",
            parts=1,
        ),
        history=table(
            "history",
            "Per-series history for the API: per-minute values and scores, labels, alerts.",
        ),
    )
