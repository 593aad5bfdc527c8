"""PADIT as an Alertmanager client: alerts pushed to ``/api/v2/alerts`` as Prometheus does.

Every alert record (firing, resolved) of the alerts topic is kept in a row per fingerprint,
in the partition of the alerts topic it came from, and pushed to each configured
Alertmanager. As Prometheus does, firing alerts are sent again every
``resend_interval_sec`` with ``endsAt`` four intervals ahead (an Alertmanager whose client
stopped sending lets them expire), and resolved ones are sent again for
``resolved_retention_sec``, so an Alertmanager that was down hears of both once it is back.
An Alertmanager that refuses or cannot be reached keeps its pending alerts, retried with
backoff; the others are not held up. The rows live in a table with a changelog, so the
worker that owns a partition after a rebalance or a restart sends its alerts on.

The agent and timer that drive the client are in :mod:`padit_stream.agents.alertmanager`.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from padit_stream.core.cache import Rows
from padit_stream.errors import DecodeError
from padit_stream.schema import Alert, rfc3339
from padit_stream.settings import AlertmanagerSettings

__all__ = ["AlertmanagerClient", "api_alert"]

logger = logging.getLogger(__name__)

#: Row keys: this prefix and the fingerprint (the store also holds Faust's own rows).
_PREFIX = b"am:"
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_BACKOFF_START = 1.0
#: Alerts per request (Prometheus' notifier sends at most 64 per request by default; larger
#: bodies are fine for Alertmanager, and fewer requests catch up faster after an outage).
_CHUNK = 500


def _label_name(name: str) -> str:
    if _LABEL_NAME.fullmatch(name):
        return name
    cleaned = re.sub(r"[^a-zA-Z0-9_]", "_", name)
    return cleaned if _LABEL_NAME.fullmatch(cleaned) else f"_{cleaned}"


def api_alert(alert: Alert, now: float, valid_for: float) -> dict[str, Any]:
    """One alert in Alertmanager's API v2 shape (``postableAlert``).

    Label names are made valid for Alertmanager and empty values dropped (Alertmanager
    refuses both). A firing alert ends ``valid_for`` seconds from ``now`` unless sent again;
    a resolved one ends when PADIT resolved it (at the latest ``now``).

    Example:
        >>> a = Alert(alert_id="a1", fingerprint="f", timestamp=10.0, source_id="du-1",
        ...     metric_name="rtt_ms", detector="zscore", severity="warning", status="firing",
        ...     title="t", description="d", score=0.8, peak_score=0.8, starts_at=10.0,
        ...     labels={"alertname": "PaditAnomaly", "site.name": "x", "empty": ""})
        >>> body = api_alert(a, now=100.0, valid_for=240.0)
        >>> body["labels"], body["startsAt"], body["endsAt"]
        ({'alertname': 'PaditAnomaly', 'site_name': 'x'}, '1970-01-01T00:00:10.000Z', \
'1970-01-01T00:05:40.000Z')
    """
    labels = {_label_name(k): v for k, v in alert.labels.items() if v}
    labels.setdefault("alertname", "PaditAnomaly")
    annotations = {_label_name(k): v for k, v in alert.annotations.items() if v}
    if alert.status == "resolved":
        ends = min(alert.ends_at if alert.ends_at is not None else now, now)
    else:
        ends = now + valid_for
    body: dict[str, Any] = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": rfc3339(alert.starts_at),
        "endsAt": rfc3339(max(ends, alert.starts_at)),
    }
    if alert.generator_url:
        body["generatorURL"] = alert.generator_url
    return body


@dataclass
class _Target:
    url: str
    #: fingerprint -> the alert to send (the newest record of its series).
    pending: dict[bytes, Alert] = field(default_factory=dict)
    retry_at: float = 0.0
    delay: float = _BACKOFF_START
    failing: bool = False


class AlertmanagerClient:
    """Keeps the alerts of this worker's partitions and pushes them to the Alertmanagers.

    Args:
        settings: the ``alertmanager`` section.
        rows: the rows of the alertmanager table (one per fingerprint, per partition).
        http: the HTTP client (its own by default).
        clock: wall time.
    """

    def __init__(
        self,
        settings: AlertmanagerSettings,
        rows: Rows,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.rows = rows
        self.clock = clock
        self.targets = [_Target(url) for url in settings.urls]
        headers = {"User-Agent": "padit"}
        if settings.bearer_token_env:
            headers["Authorization"] = f"Bearer {os.environ.get(settings.bearer_token_env, '')}"
        self.http = http or httpx.AsyncClient(timeout=settings.timeout_sec, headers=headers)
        self._resend_at = -math.inf
        #: Per Alertmanager URL: alerts accepted, requests that failed.
        self.sent: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()

    @property
    def valid_for(self) -> float:
        return 4 * self.settings.resend_interval_sec

    def on_alert(self, partition: int, alert: Alert) -> None:
        """Keep ``alert`` (the caller flushes the rows' changelog) and queue it for sending."""
        row = orjson.dumps({"alert": alert.to_dict(), "seen": self.clock()})
        key = _PREFIX + alert.fingerprint.encode()
        self.rows.write(partition, [(key, row)])
        for target in self.targets:
            target.pending[key] = alert

    def on_assigned(self) -> None:
        """Partitions moved: forget what was queued, send this worker's rows at the next tick."""
        for target in self.targets:
            target.pending.clear()
        self._resend_at = -math.inf

    def requeue(self, partitions: Iterable[int]) -> int:
        """Queue every kept alert of ``partitions`` again; drop resolved ones past retention.

        Returns the alerts queued.
        """
        now = self.clock()
        retention = self.settings.resolved_retention_sec
        queued = 0
        for partition in partitions:
            expired: list[tuple[bytes, bytes | None]] = []
            for key, raw in self.rows.items(partition, _PREFIX):
                try:
                    doc = orjson.loads(raw)
                    alert = Alert.from_dict(doc["alert"])
                except (orjson.JSONDecodeError, KeyError, TypeError, DecodeError):
                    logger.warning("unreadable alertmanager row %r: dropped", key[:80])
                    expired.append((key, None))
                    continue
                if alert.status == "resolved" and now - float(doc["seen"]) > retention:
                    expired.append((key, None))
                    continue
                for target in self.targets:
                    target.pending.setdefault(key, alert)
                queued += 1
            if expired:
                self.rows.write(partition, expired)
        return queued

    async def tick(self, partitions: Iterable[int]) -> None:
        """Re-send on the resend interval; push what is pending to each Alertmanager."""
        now = self.clock()
        if now >= self._resend_at:
            self._resend_at = now + self.settings.resend_interval_sec
            self.requeue(partitions)
        for target in self.targets:
            if target.pending and now >= target.retry_at:
                await self._push(target)

    async def _push(self, target: _Target) -> None:
        now = self.clock()
        keys = list(target.pending)
        for start in range(0, len(keys), _CHUNK):
            chunk = {k: target.pending[k] for k in keys[start : start + _CHUNK]}
            body = [api_alert(a, now, self.valid_for) for a in chunk.values()]
            try:
                response = await self.http.post(f"{target.url}/api/v2/alerts", json=body)
                response.raise_for_status()
            except httpx.HTTPError as exc:
                self.errors[target.url] += 1
                target.retry_at = now + target.delay
                if not target.failing:
                    logger.warning("Alertmanager %s: %d alerts not delivered (%r); retrying",
                                   target.url, len(target.pending), exc)  # fmt: skip
                target.failing = True
                target.delay = min(target.delay * 2, self.settings.resend_interval_sec)
                return
            for k, alert in chunk.items():
                if target.pending.get(k) is alert:  # not replaced by a newer record meanwhile
                    del target.pending[k]
            self.sent[target.url] += len(chunk)
        if target.failing:
            logger.info("Alertmanager %s reachable again", target.url)
        target.failing, target.delay, target.retry_at = False, _BACKOFF_START, 0.0

    def pending(self) -> dict[str, int]:
        return {t.url: len(t.pending) for t in self.targets}

    async def aclose(self) -> None:
        await self.http.aclose()
