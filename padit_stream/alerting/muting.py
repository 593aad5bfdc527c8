"""Marking alert records with what mutes them (silences and inhibition)."""

from __future__ import annotations

from padit_stream.alerting.inhibition import InhibitionState, Inhibitor
from padit_stream.alerting.model import Alert
from padit_stream.alerting.silences import SilenceStore

__all__ = ["mark_muted"]


def mark_muted(
    alert: Alert,
    now: float,
    silences: SilenceStore | None = None,
    inhibitor: Inhibitor | None = None,
    inhibition: InhibitionState | None = None,
) -> Alert:
    """A copy of ``alert`` marked ``silenced`` if a silence (at wall time ``now``) or a
    firing alert in ``inhibition`` mutes it; resolved alerts are never marked.

    Example:
        >>> from padit_stream.alerting.silences import SilenceStore
        >>> from padit_stream.alerting.model import Alert
        >>> store = SilenceStore()
        >>> _ = store.create({"matchers": ['source_id="ru-1"'], "starts_at": 0,
        ...                   "ends_at": 100, "created_by": "me"}, now=0, silence_id="s1")
        >>> a = Alert("id", "fp", 1.0, "ru-1", "rtt", "z", "warning", "firing", "t", "d",
        ...           0.8, 0.8, 1.0, labels={"source_id": "ru-1"})
        >>> mark_muted(a, 50.0, store).silenced_by, mark_muted(a, 150.0, store).silenced
        (('s1',), False)
    """
    if alert.status != "firing":
        return alert.muted((), ())
    silenced_by = silences.matching(alert.labels, now) if silences is not None else ()
    inhibited_by: tuple[str, ...] = ()
    if inhibitor is not None and inhibition is not None:
        inhibited_by = inhibitor.inhibited_by(inhibition, alert.fingerprint, alert.labels)
    return alert.muted(silenced_by, inhibited_by)
