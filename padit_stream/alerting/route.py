"""The routing tree, as Alertmanager's ``route``: which receivers and groups an alert joins.

An alert walks down the tree of :class:`~padit_stream.alerting.config.RouteConfig` from
the root; the deepest matching routes take it (the first matching child, or every matching
child up to the first one without ``continue``). On each route it joins the group of the
alerts that share its ``group_by`` labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from padit_stream.alerting.config import AlertingConfig, RouteConfig
from padit_stream.alerting.matchers import Matcher, matches_all

__all__ = ["GroupTarget", "Route", "Router"]

_DEFAULT_GROUP_BY = ("alertname", "source_id")
_DEFAULT_GROUP_WAIT = 30.0
_DEFAULT_GROUP_INTERVAL = 300.0
_DEFAULT_REPEAT_INTERVAL = 4 * 3600.0


@dataclass(frozen=True, slots=True)
class Route:
    """One compiled node of the tree, its unset settings inherited from its parent."""

    key: str
    matchers: tuple[Matcher, ...]
    receiver: str
    group_by: tuple[str, ...] | None  # None: every label ("...")
    group_wait: float
    group_interval: float
    repeat_interval: float
    continue_: bool
    children: tuple[Route, ...]


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

    def _compile(self, cfg: RouteConfig, parent: Route | None, key: str) -> Route:
        def pick(value: Any, inherited: Any, default: Any) -> Any:
            if value is not None:
                return value
            return inherited if parent is not None else default

        group_by: tuple[str, ...] | None
        if cfg.group_by is not None:
            group_by = None if "..." in cfg.group_by else tuple(sorted(set(cfg.group_by)))
        else:
            group_by = parent.group_by if parent is not None else _DEFAULT_GROUP_BY
        node = Route(
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
        out = []
        for node in self.match(labels):
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

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes that take an alert with ``labels`` (the root when no child does)."""
        return self._match(self.root, labels) or [self.root]

    def _match(self, node: Route, labels: Mapping[str, str]) -> list[Route]:
        if not matches_all(node.matchers, labels):
            return []
        matched: list[Route] = []
        for child in node.children:
            child_routes = self._match(child, labels)
            if child_routes:
                matched.extend(child_routes)
                if not child.continue_:
                    break
        return matched or [node]
