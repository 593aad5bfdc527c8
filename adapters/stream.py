"""Records from streaming adapters (MQTT, CAN): samples and ``up`` without a probe cycle.

A probing adapter returns :class:`~adapters.base.ProbeResult`s and the runner encodes them;
a streaming adapter publishes as data arrives, through one :class:`RecordEmitter` that keys
and encodes each sample and reports the connection's health as ``up`` (1/0 with ``error``).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping

from adapters.base import Publish, Sample
from adapters.errors import ErrorKind
from padit_stream.schema import encode_metric, metric_key

__all__ = ["RecordEmitter", "UnmappedLog", "reconnect_delay"]

log = logging.getLogger(__name__)

#: Called once per ``up`` record: ``(ok, error_kind_or_None)`` (the adapters' own /metrics).
UpHook = Callable[[bool, "ErrorKind | None"], None]


class RecordEmitter:
    """Encodes and publishes the records of one streaming endpoint.

    Args:
        publish: where records go.
        source_id: the endpoint's source (``up`` and samples without their own source).
        protocol: the ``protocol`` field of every record.
        labels: added to every record (a sample's own labels win).
        on_up: told about every ``up`` record.

    Example:
        >>> import asyncio
        >>> got = []
        >>> async def send(k, v, ts): got.append(k)
        >>> em = RecordEmitter(send, source_id="plc", protocol="demo", labels={})
        >>> asyncio.run(em.up(False, "refused")); got
        [b'["plc","up"]']
    """

    def __init__(
        self,
        publish: Publish,
        *,
        source_id: str,
        protocol: str,
        labels: Mapping[str, str],
        on_up: UpHook | None = None,
    ) -> None:
        self._publish = publish
        self.source_id = source_id
        self.protocol = protocol
        self.labels = dict(labels)
        self._on_up = on_up
        self._keys: dict[tuple[str, str], bytes] = {}
        self.records = 0

    def _key(self, source_id: str, name: str) -> bytes:
        key = self._keys.get((source_id, name))
        if key is None:
            if len(self._keys) > 100_000:
                self._keys.clear()  # bounded: topics may carry unbounded source names
            key = self._keys[(source_id, name)] = metric_key(source_id, name)
        return key

    async def sample(self, s: Sample, source_id: str | None = None) -> None:
        """Publish one sample (under ``source_id``, default the endpoint's source)."""
        sid = source_id or s.source_id or self.source_id
        ts = time.time() if s.timestamp is None else s.timestamp
        labels = {**self.labels, **s.labels} if s.labels else self.labels
        value = encode_metric(
            ts,
            sid,
            s.metric_name,
            s.value,
            unit=s.unit,
            metric_type=s.metric_type,
            protocol=self.protocol,
            labels=labels,
        )
        await self._publish(self._key(sid, s.metric_name), value, ts)
        self.records += 1

    async def up(self, ok: bool, error: ErrorKind | None = None, detail: str = "") -> None:
        """Publish ``up`` for the endpoint: 1, or 0 with ``error`` (and ``detail`` logged)."""
        if self._on_up is not None:
            self._on_up(ok, None if ok else (error or "internal"))
        extra = {} if ok else {"error": str(error or "internal")}
        await self.sample(Sample("up", 1.0 if ok else 0.0, labels=extra))
        if not ok and detail:
            log.info("endpoint %s: %s: %s", self.source_id, error, detail)


class UnmappedLog:
    """Counts messages that could not be mapped; logs the first of each reason and then a
    summary with a sample at most once per ``every_sec``, so a flood never floods the log.

    Example:
        >>> u = UnmappedLog("ep")
        >>> u.add("not a number", "plant/a/temp", b"hot")
        >>> u.total, u.by_reason
        (1, {'not a number': 1})
    """

    def __init__(self, endpoint: str, every_sec: float = 60.0) -> None:
        self.endpoint = endpoint
        self.every_sec = every_sec
        self.total = 0
        self.by_reason: dict[str, int] = {}
        self._since_log = 0
        self._last_log = 0.0
        self._sample = ""

    def add(self, reason: str, where: str, payload: bytes) -> None:
        self.total += 1
        self._since_log += 1
        first = reason not in self.by_reason
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        self._sample = f"{reason}: {where} payload={payload[:120]!r}"
        now = time.monotonic()
        if first or now - self._last_log >= self.every_sec:
            log.warning(
                "endpoint %s: %d unmapped message(s) (%d in all); sample: %s",
                self.endpoint, self._since_log, self.total, self._sample,
            )  # fmt: skip
            self._since_log = 0
            self._last_log = now


def reconnect_delay(failures: int, low: float, high: float, rng: random.Random) -> float:
    """Seconds before reconnect attempt ``failures`` (>= 1): doubling, capped, +/- 20 %.

    Example:
        >>> r = random.Random(0)
        >>> all(3.2 <= reconnect_delay(3, 1, 8, r) <= 4.8 for _ in range(100))  # 1 * 2**2
        True
        >>> all(6.4 <= reconnect_delay(9, 1, 8, r) <= 9.6 for _ in range(100))  # capped at 8
        True
    """
    base = min(low * 2 ** (failures - 1), high)
    return float(base * rng.uniform(0.8, 1.2))
