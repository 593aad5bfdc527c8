"""Label matchers as Alertmanager writes them: ``name=value``, ``!=``, ``=~`` and ``!~``.

Regular expressions are anchored at both ends, as in Alertmanager, so ``severity=~"warn"``
does not match ``warning``. A missing label matches as the empty string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

__all__ = ["MatchOp", "Matcher", "matches_all", "parse_matcher"]

MatchOp = Literal["=", "!=", "=~", "!~"]

_MATCHER_RE = re.compile(
    r"""^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*(?P<value>.*?)\s*$"""
)
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Matcher(BaseModel):
    """One label matcher.

    Example:
        >>> m = parse_matcher('severity=~"warning|critical"')
        >>> m.matches({"severity": "critical"}), m.matches({"severity": "info"})
        (True, False)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    op: MatchOp = "="
    value: str

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not _NAME_RE.match(name):
            raise ValueError(f"label name must match [A-Za-z_][A-Za-z0-9_]*, got {name!r}")
        return name

    @model_validator(mode="after")
    def _check_regex(self) -> Matcher:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {self.value!r}: {exc}") from exc
        return self

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this matcher (a missing label is the empty string)."""
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = _compiled(self.value).fullmatch(actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _REGEX_CACHE.get(pattern)
    if compiled is None:
        if len(_REGEX_CACHE) > 1024:
            _REGEX_CACHE.clear()
        compiled = _REGEX_CACHE[pattern] = re.compile(pattern)
    return compiled


def parse_matcher(raw: Any) -> Matcher:
    """Build a matcher from ``'name=~"re"'`` text or a ``{name, op, value}`` mapping.

    Raises:
        ValueError: the text is not a matcher (pydantic turns this into a validation error
            that names the key).
    """
    if isinstance(raw, Matcher):
        return raw
    if isinstance(raw, Mapping):
        return Matcher.model_validate(dict(raw))
    if not isinstance(raw, str):
        raise ValueError(f"a matcher is a string like 'name=\"value\"', got {type(raw).__name__}")
    parsed = _MATCHER_RE.match(raw)
    if parsed is None:
        raise ValueError(f"not a matcher (expected name=value, !=, =~ or !~): {raw!r}")
    value = parsed["value"]
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return Matcher(name=parsed["name"], op=parsed["op"], value=value)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether every matcher matches ``labels`` (an empty list matches everything)."""
    return all(m.matches(labels) for m in matchers)
