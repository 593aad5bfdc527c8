"""Metric records, the metrics topic's keys and compact JSON values, decoded with orjson.

Adapters encode with :func:`encode_metric` and key with :func:`metric_key`; the stream decodes
with :func:`decode_metric`.

The metrics topic carries raw bytes so that decoding is one ``orjson.loads`` plus checks
(~1 µs) instead of a Faust Record decode (~15 µs); a record that fails a check raises
:class:`~padit_stream.errors.DecodeError` with a reason for the dead-letter topic.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from aiokafka.partitioner import murmur2

from padit_stream.errors import DecodeError

__all__ = [
    "DEFAULT_LIMITS",
    "DecodeLimits",
    "Metric",
    "decode_metric",
    "encode_metric",
    "metric_key",
    "parse_metric_key",
    "partition_for_key",
    "quote",
    "why_not_json",
]

_METRIC_TYPES = frozenset({"gauge", "counter", "histogram", "summary", "rate"})
#: orjson's own nesting limit: deeper documents fail to parse at all.
MAX_JSON_DEPTH = 1024
_QUOTE_CHARS = 60


def quote(raw: Any, limit: int = _QUOTE_CHARS) -> str:
    """``repr(raw)`` cut to ``limit`` characters: reasons never echo unbounded input."""
    text = repr(raw[: limit + 1] if isinstance(raw, str | bytes) else raw)
    if len(text) > limit:
        size = len(raw) if isinstance(raw, str | bytes) else len(text)
        return f"{text[:limit]}... ({size} in all)"
    return text


class DecodeLimits(NamedTuple):
    """What one metric record may hold (``limits`` in the settings)."""

    max_bytes: int = 65_536
    max_name_chars: int = 256
    max_labels: int = 64
    max_label_chars: int = 1024


DEFAULT_LIMITS = DecodeLimits()


class Metric(NamedTuple):
    """One metric: what an adapter publishes and the stream decodes."""

    timestamp: float
    source_id: str
    metric_name: str
    value: float
    unit: str = ""
    metric_type: str = "gauge"
    protocol: str = ""
    labels: dict[str, str] = {}


def metric_key(source_id: str, metric_name: str) -> bytes:
    """The message key and table key of one (source, metric) series.

    A JSON array keeps the two parts unambiguous whatever characters they contain and
    stays readable in kcat. Producers must key metrics with it: every record of one series
    then lands in one partition, next to its table shard.
    """
    return orjson.dumps([source_id, metric_name])


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2) gives ``key``."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


def parse_metric_key(key: bytes) -> tuple[str, str]:
    """Inverse of :func:`metric_key`."""
    try:
        source_id, metric_name = orjson.loads(key)
    except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise DecodeError(
            f"key is not a [source_id, metric_name] JSON array: {quote(key)}"
        ) from exc
    return str(source_id), str(metric_name)


def _timestamp(raw: Any) -> float:
    if isinstance(raw, bool):
        raise DecodeError("field 'timestamp' must be a number or an ISO 8601 string, got bool")
    if isinstance(raw, int | float):
        ts = float(raw)
    elif isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError as exc:
            raise DecodeError(f"field 'timestamp' is not ISO 8601: {quote(raw)}") from exc
    else:
        raise DecodeError(
            f"field 'timestamp' must be a number or an ISO 8601 string, got {type(raw).__name__}"
        )
    if not math.isfinite(ts):
        raise DecodeError("field 'timestamp' is not finite")
    return ts


def _text(obj: dict[str, Any], field: str, default: str | None = None, limit: int = 0) -> str:
    raw = obj.get(field, default)
    if raw is None:
        raise DecodeError(f"missing field '{field}'")
    if not isinstance(raw, str):
        raise DecodeError(f"field '{field}' must be a string, got {type(raw).__name__}")
    if limit and len(raw) > limit:
        raise DecodeError(f"field '{field}' is {len(raw)} characters, over the limit of {limit}")
    return raw


def _reject_constant(name: str) -> float:
    raise DecodeError(f"non-finite number {name} (JSON has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DecodeError(f"number {text} is not finite (overflows a double)")
    return value


def why_not_json(data: bytes, exc: orjson.JSONDecodeError) -> str:
    """The reason ``data`` failed to parse, in words an operator can act on (slow path)."""
    if str(exc).startswith("depth limit exceeded"):
        return f"not JSON: nested deeper than {MAX_JSON_DEPTH} levels"
    # Name NaN/Infinity, which producers using Python's json emit. Python's parser recurses,
    # so it only sees documents orjson's depth limit already let through.
    try:
        json.loads(data, parse_constant=_reject_constant, parse_float=_finite_float)
    except DecodeError as named:
        return named.reason
    except (ValueError, UnicodeDecodeError, RecursionError):
        pass
    return f"not JSON: {quote(str(exc), 120)}"


def decode_metric(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Metric:
    """Decode and validate one metric record.

    Raises:
        DecodeError: the record is larger than ``limits.max_bytes``, the bytes are not
            JSON, a field is missing, mistyped or longer than its limit, the value is NaN or
            infinite, or ``source_id``/``metric_name`` is empty.

    Example:
        >>> decode_metric(b'{"timestamp": 1.5, "source_id": "du-1", '
        ...               b'"metric_name": "rtt_ms", "value": 0.4}').value
        0.4
    """
    if len(data) > limits.max_bytes:
        raise DecodeError(f"record is {len(data)} bytes, over the limit of {limits.max_bytes}")
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(why_not_json(data, exc)) from exc
    if not isinstance(obj, dict):
        raise DecodeError(f"expected a JSON object, got {type(obj).__name__}")
    if "timestamp" not in obj:
        raise DecodeError("missing field 'timestamp'")
    ts = _timestamp(obj["timestamp"])
    names = limits.max_name_chars
    source_id = _text(obj, "source_id", limit=names)
    if not source_id:
        raise DecodeError("field 'source_id' is empty")
    metric_name = _text(obj, "metric_name", limit=names)
    if not metric_name:
        raise DecodeError("field 'metric_name' is empty")
    raw = obj.get("value")
    if raw is None:
        raise DecodeError("missing field 'value'")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise DecodeError(f"field 'value' must be a number, got {type(raw).__name__}")
    value = float(raw)
    if not math.isfinite(value):
        raise DecodeError(f"field 'value' is not finite: {value}")
    metric_type = _text(obj, "metric_type", "gauge")
    if metric_type not in _METRIC_TYPES:
        raise DecodeError(
            f"field 'metric_type' must be one of {sorted(_METRIC_TYPES)}, got {quote(metric_type)}"
        )
    labels = obj.get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise DecodeError("field 'labels' must be an object of strings")
    if labels:
        _check_labels(labels, limits)
    return Metric(
        ts,
        source_id,
        metric_name,
        value,
        _text(obj, "unit", "", names),
        metric_type,
        _text(obj, "protocol", "", names),
        labels,
    )


def _check_labels(labels: dict[str, str], limits: DecodeLimits) -> None:
    if len(labels) > limits.max_labels:
        raise DecodeError(
            f"field 'labels' has {len(labels)} labels, over the limit of {limits.max_labels}"
        )
    longest = max(max(len(k), len(v)) for k, v in labels.items())
    if longest > limits.max_label_chars:
        raise DecodeError(
            f"field 'labels' has a name or value of {longest} characters, "
            f"over the limit of {limits.max_label_chars}"
        )


def encode_metric(
    timestamp: float,
    source_id: str,
    metric_name: str,
    value: float,
    *,
    unit: str = "",
    metric_type: str = "gauge",
    protocol: str = "",
    labels: dict[str, str] | None = None,
) -> bytes:
    """Encode one metric record (what adapters publish)."""
    return orjson.dumps(
        {
            "timestamp": timestamp,
            "source_id": source_id,
            "metric_name": metric_name,
            "value": value,
            "unit": unit,
            "metric_type": metric_type,
            "protocol": protocol,
            "labels": labels or {},
        }
    )
