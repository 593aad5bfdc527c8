"""Dead letters: what cannot be processed goes to the dead-letter topic, with the reason.

A dead letter carries the input record's key and value unchanged, and the reason, stage and
origin (topic, partition, offset) in headers. A record too large to forward (a valid Kafka
record can be as large as the broker allows; its dead letter, with headers, would be larger
than the producer may send) is truncated to ``max_bytes`` and the headers say so, with its
original sizes and a SHA-256 digest, so nothing about it is lost but the bulk of its bytes.
The reason is cut to a bounded length: it never echoes unbounded input.

This module is pure: it builds the record; the stream's batch sender sends it.
"""

from __future__ import annotations

import hashlib

__all__ = ["MAX_REASON_CHARS", "REASON_CLASSES", "Headers", "dead_letter_record", "reason_class"]

Headers = list[tuple[str, bytes]]

#: Longest reason kept in the ``padit-reason`` header.
MAX_REASON_CHARS = 500
#: Room left under ``max_bytes`` for the headers of a truncated record.
_HEADER_ROOM = 1024


#: Reason classes, the label of ``padit_dead_letters_total`` (a bounded set: the reasons
#: themselves carry values and would make a series per bad record).
REASON_CLASSES = ("internal", "late", "timestamp", "too_large", "refused", "invalid")


def reason_class(reason: str) -> str:
    """The class of a dead letter's reason, one of :data:`REASON_CLASSES`.

    Example:
        >>> reason_class("internal error: KeyError: 'x'"), reason_class("missing field 'value'")
        ('internal', 'invalid')
        >>> reason_class("sample at 5.0 is 40.000s older than the newest (45.0); allowed ...")
        'late'
    """
    if reason.startswith("internal error"):
        return "internal"
    if reason.startswith("sample at"):
        return "late"
    if reason.startswith("timestamp "):
        return "timestamp"
    if reason.startswith(("cannot be re-keyed", "record is ")):
        return "too_large"
    if reason.startswith("the broker refused"):
        return "refused"
    return "invalid"


def _clip(reason: str) -> str:
    if len(reason) <= MAX_REASON_CHARS:
        return reason
    return f"{reason[: MAX_REASON_CHARS - 20]}... ({len(reason)} chars)"


def dead_letter_record(
    key: bytes | None,
    value: bytes | None,
    *,
    reason: str,
    stage: str,
    topic: str,
    partition: int,
    offset: int,
    max_bytes: int = 65_536,
) -> tuple[bytes | None, bytes | None, Headers]:
    """The dead letter of one record: ``(key, value, headers)``.

    Example:
        >>> key, value, headers = dead_letter_record(
        ...     b"k", b"x" * 100_000, reason="not JSON", stage="decode",
        ...     topic="padit.metrics.v1", partition=3, offset=42, max_bytes=4096)
        >>> len(value) < 4096, dict(headers)["padit-original-value-bytes"]
        (True, b'100000')
    """
    headers: Headers = [
        ("padit-reason", _clip(reason).encode(errors="replace")),
        ("padit-stage", stage.encode()),
        ("padit-topic", topic.encode()),
        ("padit-partition", str(partition).encode()),
        ("padit-offset", str(offset).encode()),
    ]
    key_size = len(key) if key is not None else 0
    value_size = len(value) if value is not None else 0
    if key_size + value_size + sum(len(k) + len(v) for k, v in headers) <= max_bytes:
        return key, value, headers
    budget = max(0, max_bytes - _HEADER_ROOM - sum(len(k) + len(v) for k, v in headers))
    # The key is usually the short part: keep as much of it as fits in half, the rest for
    # the value, so both stay recognisable.
    key_keep = min(key_size, budget // 2)
    value_keep = min(value_size, budget - key_keep)
    headers += [
        ("padit-truncated", b"true"),
        ("padit-original-key-bytes", str(key_size).encode()),
        ("padit-original-value-bytes", str(value_size).encode()),
    ]
    if key is not None:
        headers.append(("padit-key-sha256", hashlib.sha256(key).hexdigest().encode()))
    if value is not None:
        headers.append(("padit-value-sha256", hashlib.sha256(value).hexdigest().encode()))
    return (
        key[:key_keep] if key is not None else None,
        value[:value_keep] if value is not None else None,
        headers,
    )
