"""A table as its changelog leaves it, for the unit tests of stored state."""

from __future__ import annotations

__all__ = ["Rows"]


class Rows(dict[bytes, bytes]):
    """Rows applied in order, ``None`` deletes."""

    def apply(self, rows: list[tuple[bytes, bytes | None]]) -> int:
        """Apply ``rows``; returns the bytes they take (keys and values) on the changelog."""
        size = 0
        for key, value in rows:
            size += len(key) + (len(value) if value else 0)
            if value is None:
                self.pop(key, None)
            else:
                self[key] = value
        return size
