"""Prometheus text and OpenMetrics expositions: parsing and relabel-style keep/drop rules.

Pure code over prometheus-client's parsers: :func:`parse` gives flat :class:`PromSample`s
with their family's type, :func:`relabel` applies rules in order the way Prometheus'
``metric_relabel_configs`` do (``keep``/``drop`` on the joined ``source_labels``,
``labelkeep``/``labeldrop`` on label names; regexes are fully anchored).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["OPENMETRICS", "PromSample", "RelabelRule", "parse", "relabel", "series_name"]

OPENMETRICS = "application/openmetrics-text"


@dataclass(frozen=True, slots=True)
class PromSample:
    """One exposed sample; ``family_type`` is the ``# TYPE`` of its family."""

    name: str
    labels: dict[str, str]
    value: float
    family: str
    family_type: str
    timestamp: float | None = None


def parse(text: str, content_type: str = "") -> list[PromSample]:
    """Parse an exposition; OpenMetrics when ``content_type`` says so.

    Raises:
        ValueError: the text is not a valid exposition (prometheus-client's message).

    Example:
        >>> [(s.name, s.family_type, s.value) for s in parse(
        ...     "# TYPE up_total counter\\nup_total{job=\\"a\\"} 3\\n")]
        [('up_total', 'counter', 3.0)]
    """
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
    from prometheus_client.parser import text_string_to_metric_families as text_parse

    families = (
        om_parse(text)  # type: ignore[no-untyped-call]
        if content_type.startswith(OPENMETRICS)
        else text_parse(text)
    )
    out = []
    for fam in families:
        for s in fam.samples:
            ts = s.timestamp
            out.append(
                PromSample(
                    s.name,
                    dict(s.labels),
                    float(s.value),
                    fam.name,
                    fam.type,
                    None if ts is None else float(ts),
                )
            )
    return out


class RelabelRule(BaseModel):
    """One rule, as in Prometheus' ``metric_relabel_configs`` (the filtering actions)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["keep", "drop", "labelkeep", "labeldrop"] = "keep"
    source_labels: list[str] = Field(default_factory=lambda: ["__name__"], min_length=1)
    separator: str = ";"
    regex: str = "(.*)"

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"regex {v!r} does not compile: {exc}") from exc
        return v

    def matcher(self) -> re.Pattern[str]:
        return re.compile(f"(?:{self.regex})\\Z")


def relabel(samples: Iterable[PromSample], rules: list[RelabelRule]) -> list[PromSample]:
    """Samples left after ``rules`` (applied in order), with labels kept/dropped.

    Example:
        >>> s = parse('a{dev="lo",x="1"} 1\\na{dev="eth0",x="1"} 2\\nb 3\\n')
        >>> rules = [RelabelRule(regex="a"), RelabelRule(action="drop", source_labels=["dev"],
        ...          regex="lo"), RelabelRule(action="labeldrop", regex="x")]
        >>> [(p.name, p.labels) for p in relabel(s, rules)]
        [('a', {'dev': 'eth0'})]
    """
    compiled = [(r, r.matcher()) for r in rules]
    out = []
    for s in samples:
        labels = s.labels
        keep = True
        for rule, rx in compiled:
            if rule.action in ("keep", "drop"):
                value = rule.separator.join(
                    s.name if n == "__name__" else labels.get(n, "") for n in rule.source_labels
                )
                if (rx.match(value) is not None) != (rule.action == "keep"):
                    keep = False
                    break
            else:
                want = rule.action == "labelkeep"
                labels = {k: v for k, v in labels.items() if (rx.match(k) is not None) == want}
        if keep:
            out.append(s if labels is s.labels else _with_labels(s, labels))
    return out


def _with_labels(s: PromSample, labels: dict[str, str]) -> PromSample:
    return PromSample(s.name, labels, s.value, s.family, s.family_type, s.timestamp)


def series_name(name: str, labels: dict[str, str]) -> str:
    """A metric name that keeps label sets apart: ``name{a="x",b="y"}``, labels sorted.

    Example:
        >>> series_name("node_load1", {}), series_name("x", {"b": "2", "a": "1"})
        ('node_load1', 'x{a="1",b="2"}')
    """
    if not labels:
        return name
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"
