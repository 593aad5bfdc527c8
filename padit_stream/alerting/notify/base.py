"""What every notifier shares: rendering is pure, sending raises :class:`DeliveryError`."""

from __future__ import annotations

import abc
import email.utils
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from padit_stream.alerting.notification import Notification
from padit_stream.errors import PaditError
from padit_stream.schema import Alert

__all__ = [
    "DeliveryError",
    "HttpMessage",
    "HttpNotifier",
    "Notifier",
    "parse_retry_after",
    "user_agent_headers",
]

logger = logging.getLogger(__name__)

#: Response bodies quoted in errors are cut to this many characters.
_BODY_QUOTE = 200


class DeliveryError(PaditError):
    """A message was not delivered.

    ``retryable`` tells whether sending it again may work (connection error, timeout, 5xx,
    429); ``retry_after`` is the wait in seconds the receiver asked for, if any.
    """

    def __init__(self, message: str, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay seconds or an HTTP date).

    Example:
        >>> parse_retry_after("7", now=0.0), parse_retry_after(None, now=0.0)
        (7.0, None)
        >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=30.0)
        30.0
    """
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True, slots=True)
class HttpMessage:
    """One JSON POST."""

    url: str
    json: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class Notifier(abc.ABC):
    """One integration of one receiver (e.g. the first Slack config of ``oncall``).

    :meth:`render` turns a notification into the messages to send, in order (none when
    there is nothing for this integration, e.g. only resolved alerts and
    ``send_resolved`` off); :meth:`send` sends one of them.
    """

    kind: ClassVar[str] = "notifier"

    def __init__(self, name: str, send_resolved: bool) -> None:
        self.name = name
        self.send_resolved = send_resolved

    def alerts_for(self, notification: Notification) -> list[Alert]:
        """The alerts this integration reports: resolved ones only if ``send_resolved``."""
        if self.send_resolved:
            return list(notification.alerts)
        return notification.firing

    @abc.abstractmethod
    def render(self, notification: Notification) -> list[Any]:
        """The messages for one notification; pure."""

    @abc.abstractmethod
    async def send(self, message: Any, now: float) -> None:
        """Send one message; ``now`` (wall time) reads HTTP-date ``Retry-After`` headers.

        Raises:
            DeliveryError: the receiver did not accept it.
        """

    async def aclose(self) -> None:  # noqa: B027  (optional hook)
        """Release connections."""


class HttpNotifier(Notifier):
    """A notifier that POSTs JSON with a shared :class:`httpx.AsyncClient`."""

    def __init__(
        self,
        name: str,
        send_resolved: bool,
        client: httpx.AsyncClient,
        timeout: float,
    ) -> None:
        super().__init__(name, send_resolved)
        self.client = client
        self.timeout = timeout

    def accepted(self, response: httpx.Response) -> bool:
        """Whether a response means the receiver took the message."""
        return 200 <= response.status_code < 300

    async def send(self, message: Any, now: float) -> None:
        assert isinstance(message, HttpMessage)
        try:
            response = await self.client.post(
                message.url, json=message.json, headers=message.headers, timeout=self.timeout
            )
        except httpx.TransportError as exc:
            raise DeliveryError(
                f"{self.name}: {type(exc).__name__} posting to the receiver: {exc}", True
            ) from exc
        if self.accepted(response):
            return
        code = response.status_code
        body = response.text[:_BODY_QUOTE]
        retryable = code == 429 or code >= 500
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        raise DeliveryError(f"{self.name}: HTTP {code}: {body}", retryable, retry_after)


def user_agent_headers(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers every HTTP notifier sends."""
    return {"User-Agent": "padit-alerting/0.1", **(extra or {})}
