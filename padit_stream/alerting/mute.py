"""The one mute decision: is an alert silenced, inhibited, or neither, at a given time.

Alertmanager mutes at two places (its API's alert status and the notification pipeline);
both use :func:`mute_alert` here, so an alert recorded as suppressed is the alert left out of
notifications. Silences with a weekly ``time_window`` are the time-interval muting.
"""

from __future__ import annotations

from padit_stream.alerting.inhibit import Inhibitor
from padit_stream.alerting.silence import SilenceStore
from padit_stream.schema import Alert

__all__ = ["mute_alert"]


def mute_alert(
    alert: Alert,
    now: float,
    silences: SilenceStore | None = None,
    inhibitor: Inhibitor | None = None,
) -> Alert:
    """A copy of ``alert`` with its mute status at wall time ``now``: ``suppressed``
    with the silences and the inhibiting alerts that mute it, else ``active``.

    A resolved alert is never muted: its resolution closes what its firing opened.

    Example:
        >>> from padit_stream.alerting.silence import SilenceStore
        >>> from padit_stream.schema import Alert
        >>> store = SilenceStore()
        >>> _ = store.create({"matchers": ['source_id="ru-1"'], "starts_at": 0,
        ...                   "ends_at": 100, "created_by": "me"}, now=0, silence_id="s1")
        >>> a = Alert("id", "fp", 1.0, "ru-1", "rtt", "z", "warning", "firing", "t", "d",
        ...           0.8, 0.8, 1.0, labels={"source_id": "ru-1"})
        >>> mute_alert(a, 50.0, store).mute_status
        MuteStatus(state='suppressed', silenced_by=('s1',), inhibited_by=())
        >>> mute_alert(a, 150.0, store).mute_status.state
        'active'
    """
    if alert.status != "firing":
        return alert.muted((), ())
    silenced_by = silences.matching(alert.labels, now) if silences is not None else ()
    inhibited_by: tuple[str, ...] = ()
    if inhibitor is not None:
        inhibited_by = inhibitor.inhibited_by(alert.fingerprint, alert.labels)
    return alert.muted(silenced_by, inhibited_by)
