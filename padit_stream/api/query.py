"""Query parameters of the API: parsed into plain values, one error per bad field."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence

import orjson
from pydantic import ValidationError

from padit_stream.alerting.matchers import Matcher, parse_matcher
from padit_stream.api.errors import FieldErrors
from padit_stream.api.times import parse_time

__all__ = [
    "Params",
    "decode_cursor",
    "encode_cursor",
    "parse_matchers",
]


def encode_cursor(position: Sequence[str]) -> str:
    """An opaque cursor for "after this item" (URL-safe).

    Example:
        >>> decode_cursor(encode_cursor(["du-1", "rtt_ms"]))
        ['du-1', 'rtt_ms']
    """
    return base64.urlsafe_b64encode(orjson.dumps(list(position))).decode().rstrip("=")


def decode_cursor(text: str) -> list[str]:
    """Raises ValueError for a cursor this API did not give."""
    try:
        doc = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not a cursor this API gave (use next_cursor as it is)") from exc
    if not isinstance(doc, list) or not all(isinstance(x, str) for x in doc):
        raise ValueError("not a cursor this API gave (use next_cursor as it is)")
    return doc


def parse_matchers(raw: str | Iterable[str]) -> list[Matcher]:
    """Matchers from Alertmanager's text: ``{a="b",c=~"d.*"}``, ``a="b"``, or a list of them.

    Raises:
        ValueError: naming the matcher that is not valid.

    Example:
        >>> [str(m) for m in parse_matchers('{source_id="du-1", metric_name=~"rtt.*"}')]
        ['source_id="du-1"', 'metric_name=~"rtt.*"']
    """
    texts = [raw] if isinstance(raw, str) else list(raw)
    out: list[Matcher] = []
    for text in texts:
        body = text.strip()
        if body.startswith("{") and body.endswith("}"):
            body = body[1:-1]
        for part in _split(body):
            out.append(parse_matcher(part))
    return out


def _split(body: str) -> list[str]:
    """Split on commas outside double quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in body:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    if quoted:
        raise ValueError(f"unterminated quote in matchers: {body!r}")
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


class Params:
    """Typed access to a request's query, collecting one error per bad field.

    Call :meth:`done` after the last parameter: it raises a 400 naming every bad field
    (unknown parameters included).
    """

    def __init__(self, query: Mapping[str, str], getall: Mapping[str, list[str]]) -> None:
        self._query = query
        self._all = getall
        self.errors = FieldErrors()
        self._known: set[str] = set()

    def text(self, name: str) -> str | None:
        self._known.add(name)
        value = self._query.get(name)
        return value if value not in (None, "") else None

    def choice(self, name: str, options: Sequence[str]) -> str | None:
        value = self.text(name)
        if value is not None and value not in options:
            self.errors.add(name, f"must be one of {'|'.join(options)}, got {value!r}")
            return None
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.choice(name, ("true", "false"))
        return None if value is None else value == "true"

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            self.errors.add(name, f"must be an integer, got {value!r}")
            return default
        if not low <= number <= high:
            self.errors.add(name, f"must be between {low} and {high}, got {number}")
            return default
        return number

    def time(self, name: str) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_time(value)
        except ValueError as exc:
            self.errors.add(name, str(exc))
            return None

    def matchers(self, name: str) -> list[Matcher]:
        self._known.add(name)
        try:
            return parse_matchers([v for v in self._all.get(name, []) if v])
        except ValidationError as exc:
            self.errors.add(name, str(exc.errors()[0]["msg"]).removeprefix("Value error, "))
            return []
        except ValueError as exc:
            self.errors.add(name, _first_line(str(exc)))
            return []

    def cursor(self, name: str = "cursor") -> list[str] | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return decode_cursor(value)
        except ValueError as exc:
            self.errors.add(name, str(exc))
            return None

    def done(self) -> None:
        for name in self._query:
            if name not in self._known:
                self.errors.add(name, "unknown parameter")
        self.errors.raise_if_any("invalid query")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
