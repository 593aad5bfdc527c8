"""Alerting: from anomaly records to alerts an on-call engineer can trust.

Pure parts (no Faust, no I/O, time passed in): :class:`AlertEngine` (lifecycle per
fingerprint), :class:`Groups` / :func:`flush_group` (Alertmanager-style grouping and
timing), :class:`SilenceStore`, :class:`Inhibitor`, :class:`Outbox`. I/O parts:
:class:`Dispatcher` and the notifiers in :mod:`padit_stream.alerting.notifiers`.
"""

from __future__ import annotations

from padit_stream.alerting.config import AlertingConfig, load_alerting_config
from padit_stream.alerting.delivery import DeliveryStats, Dispatcher, Outbox, OutboxEntry
from padit_stream.alerting.grouping import (
    Groups,
    GroupState,
    GroupTarget,
    Notification,
    Router,
    add_alert,
    flush_group,
)
from padit_stream.alerting.inhibition import InhibitionState, Inhibitor
from padit_stream.alerting.lifecycle import AlertEngine, AlertState
from padit_stream.alerting.matchers import Matcher, parse_matcher
from padit_stream.alerting.model import Alert, Anomaly, fingerprint
from padit_stream.alerting.muting import mark_muted
from padit_stream.alerting.silences import (
    Silence,
    SilenceError,
    SilenceNotFoundError,
    SilenceSpec,
    SilenceStore,
    TimeWindow,
)

__all__ = [
    "Alert",
    "AlertEngine",
    "AlertState",
    "AlertingConfig",
    "Anomaly",
    "DeliveryStats",
    "Dispatcher",
    "GroupState",
    "GroupTarget",
    "Groups",
    "InhibitionState",
    "Inhibitor",
    "Matcher",
    "Notification",
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
    "fingerprint",
    "flush_group",
    "load_alerting_config",
    "mark_muted",
    "parse_matcher",
]
