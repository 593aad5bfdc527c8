"""The inhibitor, as Alertmanager's ``inhibit``: a firing alert mutes others.

A rule mutes an alert matching its ``target_matchers`` while an alert matching its
``source_matchers`` fires with the same values of the ``equal`` labels. An alert that
matches both sides cannot be muted by an alert that also matches both sides (this keeps
an alert from inhibiting itself or its peers).

The :class:`Inhibitor` owns its state: the labels of the firing alerts that match some
rule's source side. The notification stage that holds it sees every alert (its input topic
has one partition), so a rule compares alerts of any source. Pure; the state is kept as
one row per source alert, so an alert rewrites only its own row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import orjson

from padit_stream.alerting.config import InhibitRuleConfig
from padit_stream.alerting.matchers import matches_all
from padit_stream.errors import DecodeError
from padit_stream.schema import Alert

__all__ = ["INHIBIT_PREFIX", "Inhibitor"]

INHIBIT_PREFIX = b"inhibit\0"


class Inhibitor:
    """Applies inhibition rules against the firing source alerts it tracks.

    Example:
        >>> from padit_stream.alerting.config import InhibitRuleConfig
        >>> rule = InhibitRuleConfig(source_matchers=['metric_name="up"'],
        ...     target_matchers=['metric_name=~".*latency.*"'], equal=["source_id"])
        >>> inh = Inhibitor([rule])
        >>> inh.track("fp-up", {"metric_name": "up", "source_id": "ru-1"}, firing=True)
        >>> inh.inhibited_by("fp-lat", {"metric_name": "latency_ms", "source_id": "ru-1"})
        ('fp-up',)
        >>> inh.inhibited_by("fp-lat2", {"metric_name": "latency_ms", "source_id": "ru-2"})
        ()
    """

    def __init__(
        self,
        rules: Sequence[InhibitRuleConfig],
        sources: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.rules = list(rules)
        #: Labels of the firing alerts that can inhibit others, by fingerprint.
        self.sources: dict[str, dict[str, str]] = {
            fp: dict(labels) for fp, labels in (sources or {}).items()
        }
        self._changes: dict[bytes, bytes | None] = {}

    def track(self, fp: str, labels: Mapping[str, str], firing: bool) -> None:
        """Record that the alert ``fp`` fires (or no longer does)."""
        if firing and any(matches_all(r.source_matchers, labels) for r in self.rules):
            if self.sources.get(fp) != labels:
                self.sources[fp] = dict(labels)
                self._changes[INHIBIT_PREFIX + fp.encode()] = orjson.dumps(self.sources[fp])
        elif self.sources.pop(fp, None) is not None:
            self._changes[INHIBIT_PREFIX + fp.encode()] = None

    def observe(self, alert: Alert) -> None:
        """Track one alert record."""
        self.track(alert.fingerprint, alert.labels, alert.status == "firing")

    def inhibited_by(self, fp: str, labels: Mapping[str, str]) -> tuple[str, ...]:
        """Fingerprints of the firing alerts that inhibit the alert ``fp``, sorted."""
        inhibiting: set[str] = set()
        for rule in self.rules:
            if not matches_all(rule.target_matchers, labels):
                continue
            target_is_source = matches_all(rule.source_matchers, labels)
            for src_fp, src in self.sources.items():
                if src_fp == fp or src_fp in inhibiting:
                    continue
                if not matches_all(rule.source_matchers, src):
                    continue
                if any(src.get(name, "") != labels.get(name, "") for name in rule.equal):
                    continue
                if target_is_source and matches_all(rule.target_matchers, src):
                    continue
                inhibiting.add(src_fp)
        return tuple(sorted(inhibiting))

    def take_changes(self) -> list[tuple[bytes, bytes | None]]:
        """Rows changed since the last call (``None`` deletes a row)."""
        rows = list(self._changes.items())
        self._changes.clear()
        return rows

    def rows(self) -> list[tuple[bytes, bytes | None]]:
        """Every row of the current state (what :meth:`from_rows` reads)."""
        return [(INHIBIT_PREFIX + fp.encode(), orjson.dumps(s)) for fp, s in self.sources.items()]

    @classmethod
    def from_rows(
        cls, rules: Sequence[InhibitRuleConfig], rows: Iterable[tuple[bytes, bytes]]
    ) -> Inhibitor:
        """Rebuild from stored rows; rows of other prefixes are ignored.

        Raises:
            DecodeError: a row is not a label mapping.
        """
        sources: dict[str, dict[str, str]] = {}
        for key, value in rows:
            if not key.startswith(INHIBIT_PREFIX):
                continue
            try:
                labels = orjson.loads(value)
                if not isinstance(labels, dict):
                    raise TypeError("expected an object")
            except (orjson.JSONDecodeError, TypeError) as exc:
                raise DecodeError(f"not an encoded inhibition source: {exc}") from exc
            sources[key[len(INHIBIT_PREFIX) :].decode()] = {
                str(k): str(v) for k, v in labels.items()
            }
        return cls(rules, sources)
