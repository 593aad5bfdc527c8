"""Real PADIT worker processes and Kafka clients for the integration tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from padit_stream.schema import encode_metric, metric_key
from tests.kafka_support import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent


class Worker:
    """``python -m padit_stream worker`` as a child process with its own port and data dir."""

    def __init__(self, env: dict[str, str], data_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.log_path = log_path
        self.env = {**env, "PADIT_WEB_PORT": str(self.port), "PADIT_DATA_DIR": str(data_dir)}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Worker:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "padit_stream",
                "worker",
                "-l",
                "info",
                "--web-port",
                str(self.port),
                "--web-host",
                "127.0.0.1",
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"worker not ready after {timeout}s:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no log>"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


class Stream:
    """One isolated PADIT deployment in a test: unique app id and topic prefix."""

    def __init__(self, bootstrap: str, tmp: Path, **env: str) -> None:
        tag = uuid.uuid4().hex[:8]
        self.bootstrap = bootstrap
        self.tmp = tmp
        self.prefix = f"t{tag}"
        self.env = {
            "PADIT_BROKER": f"kafka://{bootstrap}",
            "PADIT_APP_ID": f"padit-test-{tag}",
            "PADIT_TOPIC_PREFIX": self.prefix,
            "PADIT_PARTITIONS": "4",
            **env,
        }
        self.workers: list[Worker] = []

    def topic(self, kind: str) -> str:
        return f"{self.prefix}.{kind}.v1"

    def worker(self, name: str | None = None) -> Worker:
        name = name or f"w{len(self.workers)}"
        w = Worker(self.env, self.tmp / name, self.tmp / f"{name}.log")
        self.workers.append(w)
        return w.start()

    def close(self) -> None:
        for w in self.workers:
            w.stop()


async def produce(bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes]]) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    n = 0
    try:
        for key, value in records:
            await producer.send(topic, value=value, key=key)
            n += 1
        await producer.flush()
    finally:
        await producer.stop()
    return n


def metric_records(
    source_id: str, metric_name: str, points: Iterable[tuple[float, float]]
) -> list[tuple[bytes, bytes]]:
    key = metric_key(source_id, metric_name)
    return [
        (key, encode_metric(ts, source_id, metric_name, value, unit="ms", protocol="test"))
        for ts, value in points
    ]


async def consume_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[Any]], bool],
    timeout: float = 60.0,
) -> list[Any]:
    """Read ``topic`` from the beginning until ``done(records)`` or the timeout."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        assigned = False
        while time.monotonic() < deadline:
            if not assigned:
                parts = consumer.partitions_for_topic(topic)
                if parts:
                    consumer.assign([TopicPartition(topic, p) for p in parts])
                    await consumer.seek_to_beginning()
                    assigned = True
                else:
                    await consumer._client.force_metadata_update()
                    await asyncio.sleep(0.5)
                    continue
            batch = await consumer.getmany(timeout_ms=500)
            for msgs in batch.values():
                records.extend(msgs)
            if done(records):
                return records
        return records
    finally:
        await consumer.stop()
