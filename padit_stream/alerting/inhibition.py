"""Inhibition: a firing alert mutes others, as Alertmanager's ``inhibit_rules`` do.

A rule mutes an alert matching its ``target_matchers`` while an alert matching its
``source_matchers`` fires with the same values of the ``equal`` labels. An alert that
matches both sides cannot be muted by an alert that also matches both sides (this keeps
an alert from inhibiting itself or its peers).

Pure: the firing source alerts live in an :class:`InhibitionState` that the caller keeps
(one per partition of the alert stage: key the stage by ``source_id`` so rules with
``equal: [source_id]`` see every alert they compare).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from padit_stream.alerting.config import InhibitRuleConfig
from padit_stream.alerting.matchers import matches_all
from padit_stream.alerting.model import Alert
from padit_stream.errors import DecodeError

__all__ = ["InhibitionState", "Inhibitor"]


@dataclass(slots=True)
class InhibitionState:
    """Labels of the firing alerts that can inhibit others, by fingerprint."""

    sources: dict[str, dict[str, str]] = field(default_factory=dict)

    def encode(self) -> bytes:
        """JSON bytes."""
        return orjson.dumps(self.sources)

    @classmethod
    def decode(cls, data: bytes) -> InhibitionState:
        """Inverse of :meth:`encode`.

        Raises:
            DecodeError: the bytes are not an encoded state.
        """
        try:
            obj = orjson.loads(data)
            if not isinstance(obj, dict):
                raise TypeError("expected an object")
            return cls({str(k): dict(v) for k, v in obj.items()})
        except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
            raise DecodeError(f"not an encoded InhibitionState: {exc}") from exc


class Inhibitor:
    """Applies inhibition rules.

    Example:
        >>> from padit_stream.alerting.config import InhibitRuleConfig
        >>> rule = InhibitRuleConfig(source_matchers=['metric_name="up"'],
        ...     target_matchers=['metric_name=~".*latency.*"'], equal=["source_id"])
        >>> inh, state = Inhibitor([rule]), InhibitionState()
        >>> inh.track(state, "fp-up", {"metric_name": "up", "source_id": "ru-1"}, firing=True)
        >>> inh.inhibited_by(state, "fp-lat", {"metric_name": "latency_ms", "source_id": "ru-1"})
        ('fp-up',)
        >>> inh.inhibited_by(state, "fp-lat2", {"metric_name": "latency_ms", "source_id": "ru-2"})
        ()
    """

    def __init__(self, rules: Sequence[InhibitRuleConfig]) -> None:
        self.rules = list(rules)

    def track(
        self, state: InhibitionState, fp: str, labels: Mapping[str, str], firing: bool
    ) -> None:
        """Record that the alert ``fp`` fires (or no longer does)."""
        if firing and any(matches_all(r.source_matchers, labels) for r in self.rules):
            state.sources[fp] = dict(labels)
        else:
            state.sources.pop(fp, None)

    def observe(self, state: InhibitionState, alert: Alert) -> None:
        """Track one emitted alert record."""
        self.track(state, alert.fingerprint, alert.labels, alert.status == "firing")

    def inhibited_by(
        self, state: InhibitionState, fp: str, labels: Mapping[str, str]
    ) -> tuple[str, ...]:
        """Fingerprints of the firing alerts that inhibit the alert ``fp``, sorted."""
        found: set[str] = set()
        for rule in self.rules:
            if not matches_all(rule.target_matchers, labels):
                continue
            target_is_source = matches_all(rule.source_matchers, labels)
            for src_fp, src in state.sources.items():
                if src_fp == fp or src_fp in found:
                    continue
                if not matches_all(rule.source_matchers, src):
                    continue
                if any(src.get(name, "") != labels.get(name, "") for name in rule.equal):
                    continue
                if target_is_source and matches_all(rule.target_matchers, src):
                    continue
                found.add(src_fp)
        return tuple(sorted(found))
