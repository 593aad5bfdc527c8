"""One notification: a message to one receiver about one aggregation group.

The dispatcher builds it when a group is due; the notifiers render it; the outbox keeps it
until every integration of the receiver has it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from padit_stream.errors import DecodeError
from padit_stream.schema import Alert

__all__ = ["Notification"]


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
