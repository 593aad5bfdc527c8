"""A series' recent alert intervals, in one row of the history table, for the API.

The lifecycle stage rewrites the row when an alert of the series fires, escalates or
resolves (rarely); the series detail shows the intervals over the history's chart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import orjson

from padit_stream.errors import DecodeError

__all__ = ["MAX_INTERVALS", "Interval", "decode_intervals", "intervals_key", "merge_intervals"]

_INTERVALS_PREFIX = b"al"
#: Alert intervals kept per series at most (the newest).
MAX_INTERVALS = 64


def intervals_key(series_key: bytes) -> bytes:
    """Row key of a series' recent alert intervals (JSON)."""
    return _INTERVALS_PREFIX + series_key


class Interval(NamedTuple):
    """One alert of a series: when it started, when it ended (``None``: still firing)."""

    alert_id: str
    starts_at: float
    ends_at: float | None
    severity: str


def decode_intervals(raw: bytes | None) -> list[Interval]:
    if raw is None:
        return []
    try:
        return [Interval(str(a), float(s), None if e is None else float(e), str(v))
                for a, s, e, v in orjson.loads(raw)]  # fmt: skip
    except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
        raise DecodeError("corrupt alert intervals row") from exc


def merge_intervals(raw: bytes | None, changes: Iterable[Interval], retention: float) -> bytes:
    """The intervals row with ``changes`` applied (same alert id: replaced), without the
    intervals that ended more than ``retention`` before the newest start, at most
    ``MAX_INTERVALS``.

    Example:
        >>> row = merge_intervals(None, [Interval("a1", 100.0, None, "warning")], 3600)
        >>> row = merge_intervals(row, [Interval("a1", 100.0, 400.0, "warning")], 3600)
        >>> decode_intervals(row)
        [Interval(alert_id='a1', starts_at=100.0, ends_at=400.0, severity='warning')]
    """
    by_id = {i.alert_id: i for i in decode_intervals(raw)}
    for change in changes:
        by_id[change.alert_id] = change
    kept = sorted(by_id.values(), key=lambda i: i.starts_at)
    if kept:
        newest = kept[-1].starts_at
        kept = [i for i in kept if i.ends_at is None or i.ends_at >= newest - retention]
    return orjson.dumps([list(i) for i in kept[-MAX_INTERVALS:]])
