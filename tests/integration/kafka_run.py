"""Run adapters from a YAML file in this process, publishing into the real Kafka broker, and
read back what landed on the topic (decoded), for the protocol adapters' integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import textwrap
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from adapters.config import load_config
from adapters.runner import KafkaPublisher, Runner
from padit_stream.schema import Metric, decode_metric, parse_metric_key
from tests.kafka_support import create_topic

__all__ = ["KafkaRun", "run_into_kafka"]


class KafkaRun:
    """What a running :class:`Runner` has published so far (``samples``, in topic order per
    partition) and a way to wait for a condition on them."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.samples: list[Metric] = []
        self._changed = asyncio.Event()

    def add(self, sample: Metric) -> None:
        self.samples.append(sample)
        self._changed.set()

    def named(self, metric: str, source: str | None = None) -> list[Metric]:
        return [
            s
            for s in self.samples
            if s.metric_name == metric and (source is None or s.source_id == source)
        ]

    async def wait_for(
        self, predicate: Callable[[list[Metric]], bool], what: str, timeout: float = 30
    ) -> None:
        try:
            async with asyncio.timeout(timeout):
                while not predicate(self.samples):
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            tail = [(s.source_id, s.metric_name, s.value, s.labels) for s in self.samples[-15:]]
            raise AssertionError(f"{what}: not seen within {timeout} s; last: {tail}") from None


async def _consume(bootstrap: str, topic: str, run: KafkaRun) -> None:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for rec in records:
                    sample = decode_metric(rec.value)
                    assert rec.key is not None
                    assert parse_metric_key(rec.key) == (sample.source_id, sample.metric_name)
                    run.add(sample)
    finally:
        await consumer.stop()


@contextlib.asynccontextmanager
async def run_into_kafka(bootstrap: str, tmp_path: Path, yaml_text: str) -> AsyncIterator[KafkaRun]:
    """Validate ``yaml_text`` as an adapters file, run it, and consume its topic meanwhile."""
    cfg_file = tmp_path / f"adapters-{uuid.uuid4().hex[:6]}.yaml"
    cfg_file.write_text(textwrap.dedent(yaml_text))
    cfg = load_config(cfg_file)
    topic = f"padit.metrics.test-{uuid.uuid4().hex[:8]}"
    await create_topic(bootstrap, topic, partitions=1)
    async with KafkaPublisher(bootstrap, topic, linger_ms=0) as pub:
        runner = Runner(cfg.endpoints, pub.publish)
        run = KafkaRun(runner)
        consumer = asyncio.create_task(_consume(bootstrap, topic, run))
        task = asyncio.create_task(runner.run())
        try:
            yield run
        finally:
            runner.stop()
            await asyncio.wait_for(task, 30)
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
