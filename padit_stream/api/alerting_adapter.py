"""Everything the API reads from or changes in the alerting package, in one module.

The API's views call only this module for alerts and silences, so that a change in how the
alerting package keeps them is a change here alone.
"""

from __future__ import annotations

from typing import Any

from padit_stream.alerting import AlertState, fingerprint
from padit_stream.errors import DecodeError
from padit_stream.stream import Stream

__all__ = ["series_alert_phase"]


def series_alert_phase(stream: Stream, partition: int, source_id: str, metric_name: str,
                       detector: str) -> str:  # fmt: skip
    """``inactive``, ``pending`` or ``firing``: the lifecycle phase of a series' alert."""
    if not detector:
        return "inactive"
    key = fingerprint(source_id, metric_name, detector, {}).encode()
    raw: Any = stream.alert_states.rows.get(partition, key)
    if raw is None:
        return "inactive"
    try:
        return str(AlertState.decode(raw).phase)
    except DecodeError:
        return "inactive"
