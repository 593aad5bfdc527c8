"""MQTT message to metrics: topic filters, segment templates, number or JSON payloads.

Pure code (no client): a :class:`Subscription` says which topics it takes, how topic
segments name the source and metric (``{0}``, ``{1}``, ... are the segments, ``{field}``
the JSON field's name), and whether the payload is a plain number or JSON with field paths
(``a.b[0].c``).
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "MappingError",
    "Subscription",
    "field_path",
    "lookup",
    "map_message",
    "topic_matches",
]

_TEMPLATE_REF = re.compile(r"\{([^}]*)\}")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class MappingError(ValueError):
    """A message that cannot be mapped; the message is the reason (counted per reason)."""


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT filter matching: ``+`` is one level, a trailing ``#`` the rest (or nothing).

    Example:
        >>> topic_matches("plant/+/temp", "plant/a/temp"), topic_matches("plant/#", "plant")
        (True, True)
        >>> topic_matches("plant/+", "plant/a/b")
        False
    """
    f_parts = topic_filter.split("/")
    t_parts = topic.split("/")
    for i, f in enumerate(f_parts):
        if f == "#":
            return True
        if i >= len(t_parts):
            return False
        if f != "+" and f != t_parts[i]:
            return False
    return len(f_parts) == len(t_parts)


def field_path(path: str) -> tuple[str | int, ...]:
    """Parse ``a.b[0].c`` into ``("a", "b", 0, "c")``.

    Example:
        >>> field_path("sensors.temp[1]")
        ('sensors', 'temp', 1)
    """
    parts: list[str | int] = []
    pos = 0
    for m in _PATH_PART.finditer(path):
        if m.start() != pos and path[pos : m.start()] != ".":
            raise ValueError(f"bad field path {path!r} at {pos}")
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not parts or pos != len(path):
        raise ValueError(f"bad field path {path!r}: expected names and [index], e.g. a.b[0].c")
    return tuple(parts)


def lookup(doc: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` in a decoded JSON document (``KeyError`` when absent)."""
    cur = doc
    for part in path:
        if isinstance(part, int):
            if not isinstance(cur, list) or part >= len(cur):
                raise KeyError(part)
            cur = cur[part]
        else:
            if not isinstance(cur, dict) or part not in cur:
                raise KeyError(part)
            cur = cur[part]
    return cur


def _as_number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str | bytes):
        try:
            out = float(value)
        except ValueError:
            raise MappingError("not a number") from None
    else:
        raise MappingError("not a number")
    if not math.isfinite(out):
        raise MappingError("not a finite number")
    return out


class Subscription(BaseModel):
    """One topic filter and how its messages become metrics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str = Field(min_length=1, description="MQTT topic filter, wildcards + and #")
    qos: Literal[0, 1] = 0
    #: Template of the source_id: ``{N}`` is topic segment N (from 0); default: the endpoint's.
    source: str | None = None
    #: Template of the metric name; ``{field}`` is the JSON field's key in ``json_fields``.
    metric: str = Field(default="{field}", min_length=1)
    payload: Literal["number", "json"] = "number"
    #: ``json`` payloads: field name -> path (``a.b[0].c``); each becomes one metric.
    json_fields: dict[str, str] = Field(default_factory=dict)
    unit: str = ""
    metric_type: Literal["gauge", "counter"] = "gauge"

    @field_validator("topic")
    @classmethod
    def _valid_filter(cls, v: str) -> str:
        parts = v.split("/")
        for i, p in enumerate(parts):
            if ("#" in p and (p != "#" or i != len(parts) - 1)) or ("+" in p and p != "+"):
                raise ValueError(f"bad topic filter {v!r}: + is a whole level, # the last one")
        return v

    @field_validator("json_fields")
    @classmethod
    def _paths(cls, v: dict[str, str]) -> dict[str, str]:
        for path in v.values():
            field_path(path)
        return v

    @model_validator(mode="after")
    def _templates(self) -> Subscription:
        if self.payload == "json" and not self.json_fields:
            raise ValueError("payload json needs json_fields (name: path)")
        if self.payload == "number" and self.json_fields:
            raise ValueError("json_fields need payload: json")
        levels = self.topic.split("/")
        for name, tpl in (("source", self.source), ("metric", self.metric)):
            for ref in _TEMPLATE_REF.findall(tpl or ""):
                if ref == "field":
                    if self.payload != "json" or name != "metric":
                        raise ValueError(f"{name}: {{field}} is for the metric of json payloads")
                elif not ref.isdigit():
                    raise ValueError(f"{name}: {{{ref}}} is neither a segment number nor field")
                elif levels[-1] != "#" and int(ref) >= len(levels):
                    raise ValueError(f"{name}: topic {self.topic!r} has no segment {ref}")
        if self.payload == "number" and "{field}" in self.metric:
            raise ValueError("metric: a number payload needs a template without {field}")
        return self

    def compiled_paths(self) -> list[tuple[str, tuple[str | int, ...]]]:
        return [(name, field_path(p)) for name, p in self.json_fields.items()]


def _fill(template: str, segments: list[str], field: str = "") -> str:
    def sub(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref == "field":
            return field
        idx = int(ref)
        if idx >= len(segments) or not segments[idx]:
            raise MappingError("topic segment missing")
        return segments[idx]

    return _TEMPLATE_REF.sub(sub, template)


def map_message(
    sub: Subscription,
    paths: list[tuple[str, tuple[str | int, ...]]],
    topic: str,
    payload: bytes,
) -> tuple[str | None, list[tuple[str, float]], list[str]]:
    """``(source or None, [(metric, value), ...], [why a field was left out, ...])``.

    A JSON message missing some of its fields still yields the others.

    Raises:
        MappingError: nothing could be mapped; the message is the reason.

    Example:
        >>> s = Subscription(topic="plant/+/+", source="{1}", metric="{2}")
        >>> map_message(s, [], "plant/pump1/temp", b"21.5")
        ('pump1', [('temp', 21.5)], [])
    """
    segments = topic.split("/")
    source = _fill(sub.source, segments) if sub.source else None
    if sub.payload == "number":
        return source, [(_fill(sub.metric, segments), _as_number(payload.strip()))], []
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise MappingError("not JSON") from None
    out = []
    problems = []
    for name, path in paths:
        try:
            out.append((_fill(sub.metric, segments, name), _as_number(lookup(doc, path))))
        except KeyError:
            problems.append(f"field {name} missing")
        except MappingError as exc:
            problems.append(f"field {name} {exc}")
    if not out:
        raise MappingError(problems[0] if len(problems) == 1 else "no field mapped")
    return source, out, problems
