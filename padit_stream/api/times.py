"""RFC 3339 times in and out of the API."""

from __future__ import annotations

import math
from datetime import UTC, datetime

__all__ = ["format_time", "parse_time"]


def format_time(ts: float | None) -> str | None:
    """Epoch seconds as RFC 3339 UTC with milliseconds (``None`` for no time).

    Example:
        >>> format_time(1_767_225_600.5)
        '2026-01-01T00:00:00.500Z'
    """
    if ts is None or not math.isfinite(ts):
        return None
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_time(text: str) -> float:
    """Epoch seconds from RFC 3339 text with a timezone (``Z`` or an offset).

    Raises:
        ValueError: the text is not an RFC 3339 date-time with a timezone.

    Example:
        >>> parse_time("2026-01-01T01:00:00+01:00")
        1767225600.0
    """
    if "T" not in text.upper():
        raise ValueError(
            f"expected an RFC 3339 date-time such as 2026-01-01T00:00:00Z, got {text!r}"
        )
    try:
        parsed = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"expected an RFC 3339 date-time such as 2026-01-01T00:00:00Z, got {text!r}"
        ) from exc
    if parsed.tzinfo is None:
        raise ValueError(f"an RFC 3339 time needs a timezone (a trailing Z or +HH:MM): {text!r}")
    return parsed.timestamp()
