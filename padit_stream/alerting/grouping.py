"""Routing, grouping and notification timing, as Alertmanager does them.

An alert is routed down the tree of :class:`~padit_stream.alerting.config.RouteConfig`
to one or more receivers; on each route it joins the group of alerts that share its
``group_by`` labels. A new group is first notified ``group_wait`` after its first alert,
then at most every ``group_interval`` when something changed (a new firing alert, a new
incident of a series, an escalation, a resolution), and every ``repeat_interval`` while
nothing changed and alerts still fire.

Pure: :class:`GroupState` is plain data and :meth:`Groups.due` takes the wall time.
Muted alerts (silenced or inhibited at flush time) are left out of notifications; an alert
that was notified as firing is still notified when it resolves, even if muted, so that the
incident it opened at the receiver gets closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson

from padit_stream.alerting.config import AlertingConfig, RouteConfig
from padit_stream.alerting.inhibition import InhibitionState, Inhibitor
from padit_stream.alerting.matchers import Matcher, matches_all
from padit_stream.alerting.model import Alert
from padit_stream.alerting.silences import SilenceStore
from padit_stream.errors import DecodeError

__all__ = [
    "GroupState",
    "GroupTarget",
    "Groups",
    "MuteFn",
    "Notification",
    "Router",
    "add_alert",
    "flush_group",
]

#: Marks an alert with what mutes it at wall time ``now`` (see :meth:`Alert.muted`).
MuteFn = Callable[[Alert, float], Alert]

_DEFAULT_GROUP_BY = ("alertname", "source_id")
_DEFAULT_GROUP_WAIT = 30.0
_DEFAULT_GROUP_INTERVAL = 300.0
_DEFAULT_REPEAT_INTERVAL = 4 * 3600.0


@dataclass(frozen=True, slots=True)
class _Route:
    key: str
    matchers: tuple[Matcher, ...]
    receiver: str
    group_by: tuple[str, ...] | None  # None: every label ("...")
    group_wait: float
    group_interval: float
    repeat_interval: float
    continue_: bool
    children: tuple[_Route, ...]


@dataclass(frozen=True, slots=True)
class GroupTarget:
    """Where one alert goes on one matching route."""

    group_key: str
    receiver: str
    group_labels: dict[str, str]
    group_wait: float
    group_interval: float
    repeat_interval: float


class Router:
    """The compiled routing tree.

    Example:
        >>> from padit_stream.alerting.config import RouteConfig
        >>> router = Router(RouteConfig(receiver="team", group_by=["source_id"], routes=[
        ...     RouteConfig(receiver="pager", matchers=['severity="critical"'])]))
        >>> [t.receiver for t in router.route({"severity": "critical", "source_id": "ru-1"})]
        ['pager']
        >>> [t.group_labels for t in router.route({"severity": "warning", "source_id": "ru-1"})]
        [{'source_id': 'ru-1'}]
    """

    def __init__(self, route: RouteConfig | AlertingConfig) -> None:
        root = route.route if isinstance(route, AlertingConfig) else route
        if root.receiver is None:
            raise ValueError("the root route needs a receiver")
        self.root = self._compile(root, None, "{}")

    def _compile(self, cfg: RouteConfig, parent: _Route | None, key: str) -> _Route:
        def pick(value: Any, inherited: Any, default: Any) -> Any:
            if value is not None:
                return value
            return inherited if parent is not None else default

        group_by: tuple[str, ...] | None
        if cfg.group_by is not None:
            group_by = None if "..." in cfg.group_by else tuple(sorted(set(cfg.group_by)))
        else:
            group_by = parent.group_by if parent is not None else _DEFAULT_GROUP_BY
        node = _Route(
            key=key,
            matchers=tuple(cfg.matchers),
            receiver=pick(cfg.receiver, parent.receiver if parent else None, None),
            group_by=group_by,
            group_wait=pick(
                cfg.group_wait, parent.group_wait if parent else 0, _DEFAULT_GROUP_WAIT
            ),
            group_interval=pick(
                cfg.group_interval, parent.group_interval if parent else 0, _DEFAULT_GROUP_INTERVAL
            ),
            repeat_interval=pick(
                cfg.repeat_interval,
                parent.repeat_interval if parent else 0,
                _DEFAULT_REPEAT_INTERVAL,
            ),
            continue_=cfg.continue_,
            children=(),
        )
        children = tuple(
            self._compile(child, node, f"{key}/{i}{{{','.join(str(m) for m in child.matchers)}}}")
            for i, child in enumerate(cfg.routes)
        )
        return replace(node, children=children)

    def route(self, labels: Mapping[str, str]) -> list[GroupTarget]:
        """The groups an alert with ``labels`` joins (at least one: the root's)."""
        nodes = self._match(self.root, labels)
        out = []
        for node in nodes:
            if node.group_by is None:
                group_labels = dict(sorted(labels.items()))
            else:
                group_labels = {k: labels[k] for k in node.group_by if k in labels}
            text = ", ".join(f'{k}="{v}"' for k, v in group_labels.items())
            out.append(
                GroupTarget(
                    group_key=f"{node.key}:{{{text}}}",
                    receiver=node.receiver,
                    group_labels=group_labels,
                    group_wait=node.group_wait,
                    group_interval=node.group_interval,
                    repeat_interval=node.repeat_interval,
                )
            )
        return out

    def _match(self, node: _Route, labels: Mapping[str, str]) -> list[_Route]:
        if not matches_all(node.matchers, labels):
            return []
        found: list[_Route] = []
        for child in node.children:
            hits = self._match(child, labels)
            if hits:
                found.extend(hits)
                if not child.continue_:
                    break
        return found or [node]


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to one receiver about one group: what the notifiers render.

    ``id`` is the same for the same group and sequence number, so a notification
    rebuilt after a restart is recognised by the outbox.
    """

    id: str
    receiver: str
    group_key: str
    group_labels: dict[str, str]
    status: Literal["firing", "resolved"]
    alerts: tuple[Alert, ...]
    created_at: float
    repeat: bool = False
    truncated_alerts: int = 0

    @property
    def firing(self) -> list[Alert]:
        """The firing alerts."""
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[Alert]:
        """The resolved alerts."""
        return [a for a in self.alerts if a.status == "resolved"]

    def common_labels(self) -> dict[str, str]:
        """Labels every alert has with the same value."""
        return _common(a.labels for a in self.alerts)

    def common_annotations(self) -> dict[str, str]:
        """Annotations every alert has with the same value."""
        return _common(a.annotations for a in self.alerts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "id": self.id,
            "receiver": self.receiver,
            "group_key": self.group_key,
            "group_labels": dict(self.group_labels),
            "status": self.status,
            "alerts": [a.to_dict() for a in self.alerts],
            "created_at": self.created_at,
            "repeat": self.repeat,
            "truncated_alerts": self.truncated_alerts,
        }

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Notification:
        """Inverse of :meth:`to_dict`.

        Raises:
            DecodeError: a field is missing or mistyped.
        """
        try:
            status = obj["status"]
            if status not in ("firing", "resolved"):
                raise DecodeError(f"notification status must be firing|resolved: {status!r}")
            return cls(
                id=str(obj["id"]),
                receiver=str(obj["receiver"]),
                group_key=str(obj["group_key"]),
                group_labels={str(k): str(v) for k, v in obj["group_labels"].items()},
                status=status,
                alerts=tuple(Alert.from_dict(a) for a in obj["alerts"]),
                created_at=float(obj["created_at"]),
                repeat=bool(obj.get("repeat", False)),
                truncated_alerts=int(obj.get("truncated_alerts", 0)),
            )
        except KeyError as exc:
            raise DecodeError(f"notification misses field {exc.args[0]!r}") from exc
        except (TypeError, ValueError, AttributeError) as exc:
            raise DecodeError(f"notification has a mistyped field: {exc}") from exc


def _common(maps: Iterable[Mapping[str, str]]) -> dict[str, str]:
    it = iter(maps)
    try:
        common = dict(next(it))
    except StopIteration:
        return {}
    for m in it:
        common = {k: v for k, v in common.items() if m.get(k) == v}
    return dict(sorted(common.items()))


@dataclass(slots=True)
class GroupState:
    """The alerts of one group and what was last notified about them."""

    group_key: str
    receiver: str
    group_labels: dict[str, str]
    group_wait: float
    group_interval: float
    repeat_interval: float
    created_at: float
    next_flush: float
    alerts: dict[str, Alert] = field(default_factory=dict)
    #: fingerprint -> "alert_id/severity" of each alert last notified as firing.
    notified: dict[str, str] = field(default_factory=dict)
    last_sent_at: float | None = None
    seq: int = 0
    #: Id of the alert record that created the group.
    origin: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "group_key": self.group_key,
            "receiver": self.receiver,
            "group_labels": self.group_labels,
            "group_wait": self.group_wait,
            "group_interval": self.group_interval,
            "repeat_interval": self.repeat_interval,
            "created_at": self.created_at,
            "next_flush": self.next_flush,
            "alerts": {fp: a.to_dict() for fp, a in self.alerts.items()},
            "notified": self.notified,
            "last_sent_at": self.last_sent_at,
            "seq": self.seq,
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> GroupState:
        """Inverse of :meth:`to_dict`."""
        return cls(
            **{
                **obj,
                "alerts": {fp: Alert.from_dict(a) for fp, a in obj["alerts"].items()},
            }
        )

    def encode(self) -> bytes:
        """JSON bytes."""
        return orjson.dumps(self.to_dict())

    @classmethod
    def decode(cls, data: bytes) -> GroupState:
        """Inverse of :meth:`encode`.

        Raises:
            DecodeError: the bytes are not an encoded group.
        """
        try:
            return cls.from_dict(orjson.loads(data))
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise DecodeError(f"not an encoded GroupState: {exc}") from exc


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
    return alert


def flush_group(
    state: GroupState, now: float, mute: MuteFn | None = None
) -> tuple[GroupState | None, list[Notification]]:
    """Notify the group if it is due at wall time ``now``.

    Returns the new state (``None`` once the group has no alert left: drop it) and zero
    or one notification.
    """
    if now < state.next_flush:
        return state, []
    mute = mute or _unmuted
    firing: list[Alert] = []
    resolved: list[Alert] = []
    changed = False
    for fp, alert in state.alerts.items():
        if alert.status == "resolved":
            if fp in state.notified:
                resolved.append(alert)
                changed = True
            continue
        marked = mute(alert, now)
        if marked.silenced:
            continue
        firing.append(marked)
        if state.notified.get(fp) != _mark(marked):
            changed = True
    repeat = (
        not changed
        and bool(firing)
        and state.last_sent_at is not None
        and now - state.last_sent_at >= state.repeat_interval
    )
    out: list[Notification] = []
    if changed or repeat:
        state.seq += 1
        alerts = sorted(firing, key=_order) + sorted(resolved, key=_order)
        # The creation time and first alert tell apart successive lives of one group key
        # (a group goes when its alerts resolve), so ids never repeat across them.
        origin = f"{state.receiver}\0{state.group_key}\0{state.created_at!r}\0{state.origin}"
        digest = hashlib.sha256(origin.encode()).hexdigest()
        out.append(
            Notification(
                id=f"{digest[:16]}-{state.seq}",
                receiver=state.receiver,
                group_key=state.group_key,
                group_labels=dict(state.group_labels),
                status="firing" if firing else "resolved",
                alerts=tuple(alerts),
                created_at=now,
                repeat=repeat,
            )
        )
        state.last_sent_at = now
        for alert in firing:
            state.notified[alert.fingerprint] = _mark(alert)
    for fp in [fp for fp, a in state.alerts.items() if a.status == "resolved"]:
        del state.alerts[fp]
        state.notified.pop(fp, None)
    state.next_flush = now + state.group_interval
    if not state.alerts:
        return None, out
    return state, out


def _mark(alert: Alert) -> str:
    return f"{alert.alert_id}/{alert.severity}"


def _order(alert: Alert) -> tuple[float, str]:
    return (alert.starts_at, alert.fingerprint)


class Groups:
    """Every group of the notification stage, with the inhibition state it needs.

    One object for a stage that sees every alert (a single consumer of the alerts topic):
    feed it each alert record with :meth:`on_alert`, call :meth:`due` on a timer, and
    persist :meth:`encode` after each change.

    Example:
        >>> from padit_stream.alerting.config import AlertingConfig
        >>> groups = Groups(AlertingConfig.model_validate(
        ...     {"route": {"receiver": "default", "group_wait": "30s"}}))
        >>> groups.next_due() is None
        True
    """

    def __init__(
        self,
        config: AlertingConfig,
        groups: Mapping[str, GroupState] | None = None,
        inhibition: InhibitionState | None = None,
    ) -> None:
        self.router = Router(config)
        self.inhibitor = Inhibitor(config.inhibit_rules)
        self.groups: dict[str, GroupState] = dict(groups or {})
        self.inhibition = inhibition if inhibition is not None else InhibitionState()

    def on_alert(self, alert: Alert, now: float) -> list[str]:
        """Add one alert record at wall time ``now``; returns the keys of its groups.

        A record also updates every group that already holds its series, even if its
        labels now route elsewhere (an escalation to ``critical`` that a route sends to
        another receiver): the first receiver then hears of the escalation and of the
        resolution, instead of keeping a stale firing alert.
        """
        self.inhibitor.observe(self.inhibition, alert)
        keys = []
        for target in self.router.route(alert.labels):
            key = f"{target.receiver}\0{target.group_key}"
            self.groups[key] = add_alert(self.groups.get(key), target, alert, now)
            keys.append(key)
        for key, group in self.groups.items():
            if key not in keys and alert.fingerprint in group.alerts:
                group.alerts[alert.fingerprint] = alert
                keys.append(key)
        return keys

    def mute_fn(self, silences: SilenceStore | None) -> MuteFn:
        """Marks an alert with the silences and inhibiting alerts that mute it now."""

        def mute(alert: Alert, now: float) -> Alert:
            silenced_by = silences.matching(alert.labels, now) if silences else ()
            inhibited_by = self.inhibitor.inhibited_by(
                self.inhibition, alert.fingerprint, alert.labels
            )
            return alert.muted(silenced_by, inhibited_by)

        return mute

    def due(self, now: float, silences: SilenceStore | None = None) -> list[Notification]:
        """Notifications due at wall time ``now``, in group order."""
        mute = self.mute_fn(silences)
        out: list[Notification] = []
        for key in sorted(self.groups):
            state, sent = flush_group(self.groups[key], now, mute)
            out.extend(sent)
            if state is None:
                del self.groups[key]
        return out

    def next_due(self) -> float | None:
        """Earliest wall time at which :meth:`due` may return something."""
        return min((g.next_flush for g in self.groups.values()), default=None)

    def encode(self) -> bytes:
        """JSON bytes of the groups and the inhibition state."""
        return orjson.dumps(
            {
                "groups": {k: g.to_dict() for k, g in self.groups.items()},
                "inhibition": self.inhibition.sources,
            }
        )

    @classmethod
    def decode(cls, config: AlertingConfig, data: bytes) -> Groups:
        """Inverse of :meth:`encode` (the config is not stored).

        Raises:
            DecodeError: the bytes are not encoded groups.
        """
        try:
            obj = orjson.loads(data)
            groups = {k: GroupState.from_dict(g) for k, g in obj["groups"].items()}
            inhibition = InhibitionState({k: dict(v) for k, v in obj["inhibition"].items()})
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise DecodeError(f"not encoded Groups: {exc}") from exc
        return cls(config, groups, inhibition)
