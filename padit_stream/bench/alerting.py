"""``python -m padit_stream.bench.alerting``: the notification stage's cost per alert with
many aggregation groups: µs per alert and bytes written to its table per alert.

The stage runs over an in-memory row store that counts the bytes of every row written (what
the table's changelog receives); no broker. First ``--groups`` alerts of distinct sources
make that many groups (default routing: one group per ``alertname`` and ``source_id``),
then ``--alerts`` more records are measured: each a new alert of an existing source, which
joins an existing group; wall and CPU time are both printed, as the machines this runs
on are shared. Last, one tick notifies every group (the default receiver has no
integration, so nothing leaves the process) and its time and bytes are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass

from padit_stream.alerting.config import AlertingConfig
from padit_stream.alerting.stage import NotificationStage
from padit_stream.schema import Alert, fingerprint

__all__ = ["AlertingFigures", "bench_alerting", "main"]


class _CountingStore:
    """One table partition in a dict; counts bytes written (keys and values)."""

    def __init__(self) -> None:
        self.rows: dict[bytes, bytes] = {}
        self.written = 0

    def get(self, partition: int, key: bytes) -> bytes | None:
        return self.rows.get(key)

    def items(self, partition: int, prefix: bytes = b"") -> list[tuple[bytes, bytes]]:
        return [(k, v) for k, v in self.rows.items() if k.startswith(prefix)]

    def write(self, partition: int, rows: list[tuple[bytes, bytes | None]]) -> int:
        size = 0
        for key, value in rows:
            size += len(key) + len(value or b"")
            if value is None:
                self.rows.pop(key, None)
            else:
                self.rows[key] = value
        self.written += size
        return size


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _alert(source: str, metric: str, ts: float) -> Alert:
    fp = fingerprint(source, metric, "composite", {})
    description = (
        f"composite scored {metric} on {source} 0.93 (peak 0.95) since 2026-01-01T00:00:00Z."
        " Evidence: mean=12.5, std=1.2, z=6.1."
    )
    return Alert(
        alert_id=f"{fp}0000",
        fingerprint=fp,
        timestamp=ts,
        source_id=source,
        metric_name=metric,
        detector="composite",
        severity="critical",
        status="firing",
        title=f"{metric} anomalous on {source}",
        description=description,
        score=0.93,
        peak_score=0.95,
        starts_at=ts,
        labels={
            "alertname": "PaditAnomaly",
            "source_id": source,
            "metric_name": metric,
            "detector": "composite",
            "severity": "critical",
        },
        annotations={"summary": f"{metric} anomalous on {source}", "description": description},
    )


@dataclass(frozen=True)
class AlertingFigures:
    groups: int
    alerts: int
    us_per_alert: float
    cpu_us_per_alert: float
    bytes_per_alert: float
    tick_ms: float
    tick_bytes: int


async def _run(groups: int, alerts: int) -> AlertingFigures:
    store, clock = _CountingStore(), _Clock(1_767_225_600.0)
    stage = NotificationStage(AlertingConfig(), store, clock)
    try:
        for i in range(groups):
            await stage.on_alert(_alert(f"du-{i}", "latency_ms", clock.now))
        records = [_alert(f"du-{i * groups // alerts}", "loss", clock.now) for i in range(alerts)]
        written = store.written
        start, cpu = time.perf_counter(), time.process_time()
        for record in records:
            await stage.on_alert(record)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        per_alert = (store.written - written) / alerts
        clock.now += 3600.0
        written = store.written
        start = time.perf_counter()
        await stage.tick()
        tick = time.perf_counter() - start
        return AlertingFigures(
            groups,
            alerts,
            1e6 * elapsed / alerts,
            1e6 * cpu / alerts,
            per_alert,
            1e3 * tick,
            store.written - written,
        )
    finally:
        await stage.close()


def bench_alerting(groups: int = 10_000, alerts: int = 500) -> AlertingFigures:
    """Measure ``alerts`` alerts joining groups among ``groups`` existing ones."""
    return asyncio.run(_run(groups, alerts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m padit_stream.bench.alerting")
    parser.add_argument("--groups", type=int, default=10_000, help="existing groups")
    parser.add_argument("--alerts", type=int, default=500, help="alerts measured")
    args = parser.parse_args(argv)
    f = bench_alerting(args.groups, args.alerts)
    out = sys.stdout
    out.write(
        f"notification stage, {f.groups:,} groups, {f.alerts:,} alerts each joining one:\n"
        f"  {f.us_per_alert:,.0f} µs per alert ({f.cpu_us_per_alert:,.0f} µs of CPU), "
        f"{f.bytes_per_alert:,.0f} bytes written per alert\n"
        f"  one tick notifying all {f.groups:,} groups: {f.tick_ms:,.0f} ms, "
        f"{f.tick_bytes:,} bytes written\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
