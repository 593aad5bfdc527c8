"""End-to-end figures through a real broker: throughput, worker RSS, latency.

Each run uses a fresh app id and topic prefix on the given broker, and one worker process
(``python -m padit_stream worker``) with the shipped configuration. The series' metric name
(``bench_ms``) is not one the shipped config maps to a detector of its own, so every series
gets the default detector, as a metric nobody configured would.

The bare aiokafka loop PADIT is compared with does what any consumer must: it decodes each
metric's JSON and produces one output of a features record's size per input.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from padit_stream.schema import encode_metric, metric_key

__all__ = ["E2EFigures", "bench_e2e"]

T0 = 1_767_225_600.0
#: A metric name the shipped config does not map to a detector: the default one runs.
METRIC = "bench_ms"
#: What the bare loop produces per input: as large as a features record.
_BARE_OUTPUT = orjson.dumps({f"feature_{i}": 1.2345678901234 for i in range(18)})


@dataclass
class E2EFigures:
    metrics: int
    keys: int
    rss_keys: int
    padit_rates: list[float]
    bare_rates: list[float]
    every_rate: float
    #: With features on every metric: inputs per second until the last features record,
    #: and until the last anomaly record (detection runs behind the features).
    every_anomaly_rate: float
    peak_rss_mib: float
    latency_rate: float
    latency_p50_ms: float
    latency_p99_ms: float

    @property
    def padit_rate(self) -> float:
        return statistics.median(self.padit_rates)

    @property
    def bare_rate(self) -> float:
        return statistics.median(self.bare_rates)

    @property
    def ratio(self) -> float:
        """Median of the per-repeat ratios (each pair ran back to back)."""
        runs = zip(self.padit_rates, self.bare_rates, strict=True)
        return statistics.median(p / b for p, b in runs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Worker:
    def __init__(
        self, bootstrap: str, prefix: str, app_id: str, workdir: Path, emit_every: str | None
    ) -> None:
        self.port = _free_port()
        self.env = {
            **os.environ,
            "PADIT_BROKER": f"kafka://{bootstrap}",
            "PADIT_APP_ID": app_id,
            "PADIT_TOPIC_PREFIX": prefix,
            "PADIT_WEB_PORT": str(self.port),
            "PADIT_DATA_DIR": str(workdir / "data"),
        }
        if emit_every is not None:
            self.env["PADIT_EMIT_EVERY_SEC"] = emit_every
        self.log = workdir / "worker.log"
        self.prefix = prefix
        self.app_id = app_id
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "padit_stream", "worker", "-l", "warn"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited; see {self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/ready", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise TimeoutError(f"worker not ready; see {self.log}")

    def peak_rss_mib(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=256_000)
    await producer.start()
    try:
        for i, (key, value) in enumerate(records):
            await producer.send(topic, value, key=key)
            if i % 10_000 == 9_999:
                await producer.flush()  # keep the producer's buffer bounded
        await producer.flush()
    finally:
        await producer.stop()


async def _output_rate(bootstrap: str, topic: str, expected: int, timeout: float) -> float:
    """Records per second between the first and last record's broker timestamp."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=50_000_000,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while not consumer.partitions_for_topic(topic):
            await consumer._client.force_metadata_update()
            if time.monotonic() > deadline:
                raise TimeoutError(topic)
            await asyncio.sleep(0.2)
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
        first, last, seen = float("inf"), 0.0, 0
        while seen < expected and time.monotonic() < deadline:
            for msgs in (await consumer.getmany(timeout_ms=500, max_records=50_000)).values():
                for m in msgs:
                    first = min(first, m.timestamp)
                    last = max(last, m.timestamp)
                seen += len(msgs)
        if seen < expected:
            raise TimeoutError(f"{topic}: {seen} of {expected} records")
        return seen / max((last - first) / 1000, 1e-3)
    finally:
        await consumer.stop()


async def _bare_loop(bootstrap: str, source: str, sink: str, expected: int) -> None:
    """The yardstick: consume the metrics, decode each, produce one output per input."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"bare-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        fetch_max_bytes=50_000_000,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=256_000)
    await consumer.start()
    await producer.start()
    try:
        seen = 0
        while seen < expected:
            for msgs in (await consumer.getmany(timeout_ms=500, max_records=5_000)).values():
                for m in msgs:
                    orjson.loads(m.value)
                    await producer.send(sink, _BARE_OUTPUT, key=m.key)
                seen += len(msgs)
            await consumer.commit()
        await producer.flush()
    finally:
        await consumer.stop()
        await producer.stop()


async def _latency(bootstrap: str, prefix: str, rate: float, seconds: float) -> list[float]:
    """Produce at ``rate`` with event time = wall time; features arrival minus event time."""
    features = f"{prefix}.features.v1"
    consumer = AIOKafkaConsumer(
        features,
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest",
        group_id=f"lat-{uuid.uuid4().hex}",
    )
    await consumer.start()
    await asyncio.sleep(2.0)  # let the consumer take its partitions before we produce
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    latencies: list[float] = []
    total = int(rate * seconds)

    async def read() -> None:
        while len(latencies) < total:
            for msgs in (await consumer.getmany(timeout_ms=200)).values():
                now = time.time()
                latencies.extend((now - orjson.loads(m.value)["window_end"]) * 1000 for m in msgs)

    reader = asyncio.ensure_future(read())
    try:
        start = time.monotonic()
        for i in range(total):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            key_i = i % 100
            source = f"lat-{key_i}"
            await producer.send(
                f"{prefix}.metrics.v1",
                encode_metric(time.time(), source, METRIC, 1.0 + (i % 7) / 10),
                key=metric_key(source, METRIC),
            )
        await asyncio.wait_for(reader, timeout=60)
    finally:
        reader.cancel()
        await producer.stop()
        await consumer.stop()
    return latencies


async def _span_rate(bootstrap: str, topic: str, inputs: int, timeout: float) -> float:
    """``inputs`` per second over the span of ``topic``'s broker timestamps.

    For a run whose outputs are not one per input: the worker writes its windows changelog
    for every batch it processes, so the first and last records there bracket the work.
    The topic is read until it has been quiet for 5 s.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=50_000_000,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while not consumer.partitions_for_topic(topic):
            await consumer._client.force_metadata_update()
            if time.monotonic() > deadline:
                raise TimeoutError(topic)
            await asyncio.sleep(0.2)
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
        first, last, quiet_since = float("inf"), 0.0, time.monotonic()
        while time.monotonic() - quiet_since < 5.0 or last == 0.0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: still busy after {timeout} s")
            batches = await consumer.getmany(timeout_ms=500, max_records=50_000)
            for msgs in batches.values():
                for m in msgs:
                    first = min(first, m.timestamp)
                    last = max(last, m.timestamp)
            if batches:
                quiet_since = time.monotonic()
        return inputs / max((last - first) / 1000, 1e-3)
    finally:
        await consumer.stop()


async def _stage_rates(
    bootstrap: str, start_topic: str, stages: list[str], inputs: int, timeout: float
) -> list[float]:
    """``inputs`` per second from the first record on ``start_topic`` (the worker began) to
    the last record on each stage's output topic, each read until it holds ``inputs``."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=50_000_000,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        topics = [start_topic, *stages]
        while not all(consumer.partitions_for_topic(t) for t in topics):
            await consumer._client.force_metadata_update()
            if time.monotonic() > deadline:
                raise TimeoutError(topics)
            await asyncio.sleep(0.2)
        consumer.assign(
            [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t)]
        )
        first = float("inf")
        last = dict.fromkeys(stages, 0.0)
        seen = dict.fromkeys(stages, 0)
        while any(n < inputs for n in seen.values()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{seen} of {inputs} after {timeout} s")
            for tp, msgs in (await consumer.getmany(timeout_ms=500, max_records=50_000)).items():
                if tp.topic == start_topic:
                    first = min(first, min(m.timestamp for m in msgs))
                    continue
                seen[tp.topic] += len(msgs)
                last[tp.topic] = max(last[tp.topic], max(m.timestamp for m in msgs))
        return [inputs / max((last[t] - first) / 1000, 1e-3) for t in stages]
    finally:
        await consumer.stop()


def _records(metrics: int, keys: int) -> list[tuple[bytes, bytes]]:
    """``metrics`` metrics over ``keys`` series, one second apart, series interleaved."""
    per_key = max(1, metrics // keys)
    return [
        (
            metric_key(f"src-{k}", METRIC),
            encode_metric(T0 + j, f"src-{k}", METRIC, 1.0 + (k * 31 + j) % 17 / 10),
        )
        for j in range(per_key)
        for k in range(keys)
    ]


def _backlogged_worker(
    bootstrap: str, records: list[tuple[bytes, bytes]], emit_every: str | None
) -> _Worker:
    """A worker started on a fresh app and topics holding ``records``."""
    tag = uuid.uuid4().hex[:8]
    prefix = f"bench{tag}"
    workdir = Path(tempfile.mkdtemp(prefix="padit-bench-"))
    # Let the worker create its topics, then stop it so the backlog is produced first.
    worker = _Worker(bootstrap, prefix, f"padit-bench-{tag}", workdir, emit_every)
    worker.start()
    worker.wait_ready()
    worker.stop()
    asyncio.run(_produce(bootstrap, f"{prefix}.metrics.v1", records))
    worker = _Worker(bootstrap, prefix, f"padit-bench-{tag}", workdir, emit_every)
    worker.start()
    return worker


def bench_e2e(
    bootstrap: str,
    *,
    rss_keys: int = 100_000,
    keys: int = 1_000,
    metrics: int = 400_000,
    repeats: int = 3,
) -> E2EFigures:
    """Run the end-to-end measurements against the broker at ``bootstrap``.

    - RSS: a worker that takes in two metrics for each of ``rss_keys`` series.
    - Throughput, shipped configuration (features every 60 s of event time per series):
      ``metrics`` metrics over ``keys`` series (long enough for full windows), ``repeats``
      times, alternating with the bare loop on the same topic; medians.
    - Features on every metric (so every metric also runs through detection and alerting),
      then latency at half that rate.
    """
    records = _records(2 * rss_keys, rss_keys)
    worker = _backlogged_worker(bootstrap, records, emit_every=None)
    try:
        asyncio.run(_span_rate(bootstrap, f"{worker.app_id}-windows-changelog", len(records), 900))
        worker.wait_ready()
        rss = worker.peak_rss_mib()
    finally:
        worker.stop()

    records = _records(metrics, keys)
    padit: list[float] = []
    bare: list[float] = []
    for _ in range(repeats):
        worker = _backlogged_worker(bootstrap, records, emit_every=None)
        try:
            padit.append(
                asyncio.run(
                    _span_rate(bootstrap, f"{worker.app_id}-windows-changelog", len(records), 900)
                )
            )
        finally:
            worker.stop()
        sink = f"{worker.prefix}.bare.v1"
        asyncio.run(_bare_loop(bootstrap, f"{worker.prefix}.metrics.v1", sink, len(records)))
        bare.append(asyncio.run(_output_rate(bootstrap, sink, len(records), timeout=300)))

    worker = _backlogged_worker(bootstrap, records, emit_every="0")
    try:
        every_rate, every_anomaly_rate = asyncio.run(
            _stage_rates(
                bootstrap,
                f"{worker.app_id}-windows-changelog",
                [f"{worker.prefix}.features.v1", f"{worker.prefix}.anomalies.v1"],
                len(records),
                timeout=1800,
            )
        )
    finally:
        worker.stop()
    # A fresh worker: the last one may still be working through its detection and alerting
    # backlog after its features are out.
    worker = _backlogged_worker(bootstrap, [], emit_every="0")
    try:
        worker.wait_ready()
        rate = every_rate / 2
        lat = asyncio.run(_latency(bootstrap, worker.prefix, rate, seconds=10.0))
    finally:
        worker.stop()
    q = statistics.quantiles(lat, n=100)
    return E2EFigures(
        metrics=len(records),
        keys=keys,
        rss_keys=rss_keys,
        padit_rates=padit,
        bare_rates=bare,
        every_rate=every_rate,
        every_anomaly_rate=every_anomaly_rate,
        peak_rss_mib=rss,
        latency_rate=rate,
        latency_p50_ms=q[49],
        latency_p99_ms=q[98],
    )
