"""The dispatcher, as Alertmanager's ``dispatch``: aggregation groups and their timers.

An alert joins one group per matching route (see :mod:`~padit_stream.alerting.route`). A new
group is first notified ``group_wait`` after its first alert, then at most every
``group_interval`` when something changed (a new firing alert, a new incident of a series,
an escalation, a resolution), and every ``repeat_interval`` while nothing changed and
alerts still fire. What counts as changed is decided against the
:class:`~padit_stream.alerting.nflog.NotificationLog`.

Muted alerts (see :mod:`~padit_stream.alerting.mute`, applied at flush time) are left out
of notifications; an alert that was notified as firing is still notified when it resolves,
even if muted, so that the incident it opened at the receiver gets closed.

Pure: time is passed in. State is kept as small rows (one per group, one per alert of a
group, one log entry per group) so that an alert rewrites only its own rows, however many
groups there are: :meth:`Dispatcher.take_changes` gives the rows changed since last asked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from padit_stream.alerting.config import AlertingConfig
from padit_stream.alerting.nflog import NflogEntry, NotificationLog, notified_mark
from padit_stream.alerting.notification import Notification
from padit_stream.alerting.route import GroupTarget, Router
from padit_stream.errors import DecodeError
from padit_stream.schema import Alert

__all__ = ["Dispatcher", "GroupState", "MuteFn", "Row", "add_alert"]

#: Marks an alert with what mutes it at wall time ``now`` (see :mod:`.mute`).
MuteFn = Callable[[Alert, float], Alert]
#: A table row: key and value (``None`` deletes).
Row = tuple[bytes, bytes | None]

GROUP_PREFIX = b"group\0"
ALERT_PREFIX = b"alert\0"
NFLOG_PREFIX = b"nflog\0"


@dataclass(slots=True)
class GroupState:
    """One aggregation group: its alerts (latest record per fingerprint) and timers."""

    group_key: str
    receiver: str
    group_labels: dict[str, str]
    group_wait: float
    group_interval: float
    repeat_interval: float
    created_at: float
    next_flush: float
    alerts: dict[str, Alert] = field(default_factory=dict)
    #: Id of the alert record that created the group.
    origin: str = ""

    @property
    def key(self) -> str:
        """Key of the group among all receivers' groups."""
        return f"{self.receiver}\0{self.group_key}"

    def meta(self) -> dict[str, Any]:
        """JSON-ready fields, without the alerts (they have rows of their own)."""
        return {
            "group_key": self.group_key,
            "receiver": self.receiver,
            "group_labels": self.group_labels,
            "group_wait": self.group_wait,
            "group_interval": self.group_interval,
            "repeat_interval": self.repeat_interval,
            "created_at": self.created_at,
            "next_flush": self.next_flush,
            "origin": self.origin,
        }

    @classmethod
    def from_meta(cls, obj: Mapping[str, Any]) -> GroupState:
        """Inverse of :meth:`meta` (no alerts yet).

        Raises:
            DecodeError: a field is missing or mistyped.
        """
        try:
            return cls(
                group_key=str(obj["group_key"]),
                receiver=str(obj["receiver"]),
                group_labels={str(k): str(v) for k, v in obj["group_labels"].items()},
                group_wait=float(obj["group_wait"]),
                group_interval=float(obj["group_interval"]),
                repeat_interval=float(obj["repeat_interval"]),
                created_at=float(obj["created_at"]),
                next_flush=float(obj["next_flush"]),
                origin=str(obj.get("origin", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DecodeError(f"not an encoded group: {exc}") from exc

    def notification_id(self, seq: int) -> str:
        """Id of the group's ``seq``-th notification, the same when rebuilt after a restart.

        The creation time and first alert tell apart successive lives of one group key (a
        group goes when its alerts resolve), so ids never repeat across them.
        """
        origin = f"{self.receiver}\0{self.group_key}\0{self.created_at!r}\0{self.origin}"
        return f"{hashlib.sha256(origin.encode()).hexdigest()[:16]}-{seq}"


def add_alert(
    state: GroupState | None, target: GroupTarget, alert: Alert, now: float
) -> GroupState:
    """Put the latest record of an alert into its group (created if needed)."""
    if state is None:
        state = GroupState(
            group_key=target.group_key,
            receiver=target.receiver,
            group_labels=dict(target.group_labels),
            group_wait=target.group_wait,
            group_interval=target.group_interval,
            repeat_interval=target.repeat_interval,
            created_at=now,
            next_flush=now + target.group_wait,
            origin=f"{alert.alert_id}/{alert.status}/{alert.timestamp!r}",
        )
    state.alerts[alert.fingerprint] = alert
    return state


def _unmuted(alert: Alert, now: float) -> Alert:
    return alert.muted((), ())


def _order(alert: Alert) -> tuple[float, str]:
    return (alert.starts_at, alert.fingerprint)


class Dispatcher:
    """Every aggregation group of the notification stage and its notification log.

    Feed it each alert record with :meth:`on_alert`, call :meth:`due` on a timer, and
    persist :meth:`take_changes` after each call.

    Example:
        >>> from padit_stream.alerting.config import AlertingConfig
        >>> d = Dispatcher(AlertingConfig.model_validate(
        ...     {"route": {"receiver": "default", "group_wait": "30s"}}))
        >>> d.next_due() is None
        True
    """

    def __init__(
        self,
        config: AlertingConfig,
        mute: MuteFn | None = None,
        groups: Mapping[str, GroupState] | None = None,
        nflog: NotificationLog | None = None,
    ) -> None:
        self.router = Router(config)
        self.mute = mute or _unmuted
        self.groups: dict[str, GroupState] = dict(groups or {})
        self.nflog = nflog if nflog is not None else NotificationLog()
        self._changes: dict[bytes, bytes | None] = {}
        #: fingerprint -> keys of the groups holding it, so an alert finds its groups
        #: without a walk over every group.
        self._groups_of: dict[str, set[str]] = {}
        for key, group in self.groups.items():
            for fp in group.alerts:
                self._groups_of.setdefault(fp, set()).add(key)

    def on_alert(self, alert: Alert, now: float) -> list[str]:
        """Add one alert record at wall time ``now``; returns the keys of its groups.

        A record also updates every group that already holds its series, even if its
        labels now route elsewhere (an escalation to ``critical`` that a route sends to
        another receiver): the first receiver then hears of the escalation and of the
        resolution, instead of keeping a stale firing alert.
        """
        fp = alert.fingerprint
        value = alert.encode()
        holding = self._groups_of.setdefault(fp, set())
        keys = []
        for target in self.router.route(alert.labels):
            key = f"{target.receiver}\0{target.group_key}"
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = add_alert(None, target, alert, now)
                self._changes[_group_row(key)] = orjson.dumps(group.meta())
            else:
                add_alert(group, target, alert, now)
            self._changes[_alert_row(key, fp)] = value
            keys.append(key)
        for key in sorted(holding.difference(keys)):
            self.groups[key].alerts[fp] = alert
            self._changes[_alert_row(key, fp)] = value
            keys.append(key)
        holding.update(keys)
        return keys

    def flush(self, group: GroupState, now: float) -> list[Notification]:
        """Notify one group if it is due at wall time ``now`` (zero or one notification).

        Resolved alerts leave the group; a group without alerts is dropped.
        """
        if now < group.next_flush:
            return []
        key = group.key
        firing: list[Alert] = []
        resolved: list[Alert] = []
        for fp, alert in group.alerts.items():
            if alert.status == "resolved":
                if self.nflog.notified(key, fp):
                    resolved.append(alert)
                continue
            marked = self.mute(alert, now)
            if not marked.suppressed:
                firing.append(marked)
        marks = {a.fingerprint: notified_mark(a) for a in firing}
        resolved_fps = [a.fingerprint for a in resolved]
        changed = self.nflog.changed(key, marks, resolved_fps)
        repeat = (
            not changed and bool(firing) and self.nflog.repeat_due(key, now, group.repeat_interval)
        )
        out: list[Notification] = []
        if changed or repeat:
            entry = self.nflog.record(key, marks, resolved_fps, now)
            out.append(
                Notification(
                    id=group.notification_id(entry.seq),
                    receiver=group.receiver,
                    group_key=group.group_key,
                    group_labels=dict(group.group_labels),
                    status="firing" if firing else "resolved",
                    alerts=tuple(sorted(firing, key=_order) + sorted(resolved, key=_order)),
                    created_at=now,
                    repeat=repeat,
                )
            )
            self._changes[_nflog_row(key)] = entry.encode()
        for fp in [fp for fp, a in group.alerts.items() if a.status == "resolved"]:
            del group.alerts[fp]
            holding = self._groups_of.get(fp)
            if holding is not None:
                holding.discard(key)
                if not holding:
                    del self._groups_of[fp]
            self.nflog.forget_alert(key, fp)
            self._changes[_alert_row(key, fp)] = None
        # The next flush time is kept in memory only: after a restart every group is
        # flushed at its first tick, and the log keeps that from repeating what was sent.
        group.next_flush = now + group.group_interval
        if not group.alerts:
            del self.groups[key]
            self.nflog.forget(key)
            self._changes[_group_row(key)] = None
            self._changes[_nflog_row(key)] = None
        return out

    def due(self, now: float) -> list[Notification]:
        """Notifications due at wall time ``now``, in group order."""
        out: list[Notification] = []
        for key in sorted(self.groups):
            out.extend(self.flush(self.groups[key], now))
        return out

    def next_due(self) -> float | None:
        """Earliest wall time at which :meth:`due` may return something."""
        return min((g.next_flush for g in self.groups.values()), default=None)

    def alerts(self) -> list[Alert]:
        """The latest record of every alert in some group, one per fingerprint."""
        latest: dict[str, Alert] = {}
        for group in self.groups.values():
            for fp, alert in group.alerts.items():
                if fp not in latest or alert.timestamp > latest[fp].timestamp:
                    latest[fp] = alert
        return sorted(latest.values(), key=_order)

    def take_changes(self) -> list[Row]:
        """The rows changed since the last call (``None`` deletes a row)."""
        rows = list(self._changes.items())
        self._changes.clear()
        return rows

    def rows(self) -> list[Row]:
        """Every row of the current state (what :meth:`from_rows` reads)."""
        out: list[Row] = []
        for key, group in self.groups.items():
            out.append((_group_row(key), orjson.dumps(group.meta())))
            out.extend((_alert_row(key, fp), a.encode()) for fp, a in group.alerts.items())
            if key in self.nflog.entries:
                out.append((_nflog_row(key), self.nflog.entries[key].encode()))
        return out

    @classmethod
    def from_rows(
        cls, config: AlertingConfig, rows: Iterable[tuple[bytes, bytes]], mute: MuteFn | None = None
    ) -> Dispatcher:
        """Rebuild from stored rows; rows of other prefixes are ignored.

        Raises:
            DecodeError: a row is not what its key says.
        """
        groups: dict[str, GroupState] = {}
        alerts: list[tuple[str, str, bytes]] = []
        entries: dict[str, NflogEntry] = {}
        for key, value in rows:
            if key.startswith(GROUP_PREFIX):
                try:
                    meta = orjson.loads(value)
                except orjson.JSONDecodeError as exc:
                    raise DecodeError(f"not an encoded group: {exc}") from exc
                groups[key[len(GROUP_PREFIX) :].decode()] = GroupState.from_meta(meta)
            elif key.startswith(ALERT_PREFIX):
                group_key, _, fp = key[len(ALERT_PREFIX) :].decode().rpartition("\0")
                alerts.append((group_key, fp, value))
            elif key.startswith(NFLOG_PREFIX):
                entries[key[len(NFLOG_PREFIX) :].decode()] = NflogEntry.decode(value)
        stale: list[bytes] = []
        for group_key, fp, value in alerts:
            if group_key in groups:
                groups[group_key].alerts[fp] = Alert.decode(value)
            else:
                stale.append(_alert_row(group_key, fp))
        # A group without alerts was being dropped when the worker stopped: finish that.
        live = {k: g for k, g in groups.items() if g.alerts}
        stale += [_group_row(k) for k in groups if k not in live]
        stale += [_nflog_row(k) for k in entries if k not in live]
        log = NotificationLog({k: e for k, e in entries.items() if k in live})
        dispatcher = cls(config, mute, live, log)
        dispatcher._changes.update(dict.fromkeys(stale))
        return dispatcher


def _group_row(key: str) -> bytes:
    return GROUP_PREFIX + key.encode()


def _alert_row(key: str, fp: str) -> bytes:
    return ALERT_PREFIX + key.encode() + b"\0" + fp.encode()


def _nflog_row(key: str) -> bytes:
    return NFLOG_PREFIX + key.encode()
