"""Alerting: from anomaly records to alerts an on-call engineer can trust.

Laid out as Alertmanager's packages, so its readers find their way:

- :mod:`.lifecycle`: :class:`AlertEngine`, when a series' alert fires and resolves
  (Prometheus' rule evaluation; PADIT's own step before Alertmanager's);
- :mod:`.route`: the routing tree (:class:`Router`);
- :mod:`.dispatch`: aggregation groups and their group_wait, group_interval and
  repeat_interval timers (:class:`Dispatcher`);
- :mod:`.inhibit`: inhibition rules and the firing alerts they compare (:class:`Inhibitor`);
- :mod:`.silence`: the silence store and its garbage collection (:class:`SilenceStore`);
- :mod:`.mute`: the one function that says whether an alert is suppressed (:func:`mute_alert`);
- :mod:`.nflog`: what was notified for each group, and the outbox of undelivered
  notifications (:class:`NotificationLog`, :class:`Outbox`);
- :mod:`.notify`: the integrations and the delivery with retries (:class:`Delivery`);
- :mod:`.matchers`, :mod:`.notification`, :mod:`.config`: label matchers, the
  notification, the ``alerting`` config section (the alert record is in
  :mod:`padit_stream.schema`).
- :mod:`.stage`: :class:`NotificationStage`, all of the above over a table's rows. The web
  views and the API call it: ``list_alerts()`` (Alertmanager's API shape, with
  ``status: {state, silencedBy, inhibitedBy}``), ``list_silences()``,
  ``create_silence()``, ``expire_silence()``, ``delivery_stats()``.

Everything but :mod:`.notify` and :mod:`.stage` is pure: no Faust, no I/O, time passed in.
"""

from __future__ import annotations

from padit_stream.alerting.config import AlertingConfig, load_alerting_config
from padit_stream.alerting.dispatch import Dispatcher, GroupState, add_alert
from padit_stream.alerting.inhibit import Inhibitor
from padit_stream.alerting.lifecycle import AlertEngine, AlertState
from padit_stream.alerting.matchers import Matcher, parse_matcher
from padit_stream.alerting.mute import mute_alert
from padit_stream.alerting.nflog import NotificationLog, Outbox, OutboxEntry
from padit_stream.alerting.notification import Notification
from padit_stream.alerting.notify import Delivery, DeliveryStats
from padit_stream.alerting.route import GroupTarget, Router
from padit_stream.alerting.silence import (
    Silence,
    SilenceError,
    SilenceNotFoundError,
    SilenceSpec,
    SilenceStore,
    TimeWindow,
)
from padit_stream.alerting.stage import NotificationStage

__all__ = [
    "AlertEngine",
    "AlertState",
    "AlertingConfig",
    "Delivery",
    "DeliveryStats",
    "Dispatcher",
    "GroupState",
    "GroupTarget",
    "Inhibitor",
    "Matcher",
    "Notification",
    "NotificationLog",
    "NotificationStage",
    "Outbox",
    "OutboxEntry",
    "Router",
    "Silence",
    "SilenceError",
    "SilenceNotFoundError",
    "SilenceSpec",
    "SilenceStore",
    "TimeWindow",
    "add_alert",
    "load_alerting_config",
    "mute_alert",
    "parse_matcher",
]
