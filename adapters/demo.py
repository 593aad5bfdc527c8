"""Demo producer for ``make run``: normal latency for a few sources, then injected anomalies.

Event time starts ten minutes in the past and runs 50x faster than the wall clock until it
catches up (so a new user sees features, anomalies and an alert within a minute), then
follows the wall clock at one sample per second per source.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import signal
import time

from aiokafka import AIOKafkaProducer

from padit_stream.schema import encode_metric, metric_key

__all__ = ["main", "run_demo"]

logger = logging.getLogger(__name__)

SOURCES = ("du-1", "du-2", "web-1")
METRIC = "latency_ms"


def _value(rng: random.Random, source: int, step: int) -> float:
    # Every 300 steps one source (in turn) sees 20 samples of a 60-90 ms latency spike.
    cycle, offset = divmod(step, 300)
    if 200 <= offset < 220 and cycle % len(SOURCES) == source:
        return rng.uniform(60.0, 90.0)
    return max(0.1, rng.gauss(5.0, 0.3))


async def run_demo(bootstrap: str, topic: str, seed: int = 7, speedup: float = 50.0) -> None:
    """Produce until cancelled."""
    rng = random.Random(seed)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20
    )
    await producer.start()
    try:
        event_time = float(int(time.time()) - 600)
        step = 0
        while True:
            for i, source in enumerate(SOURCES):
                value = _value(rng, i, step)
                await producer.send(
                    topic,
                    key=metric_key(source, METRIC),
                    value=encode_metric(
                        event_time, source, METRIC, value, unit="ms", protocol="demo"
                    ),
                )
            step += 1
            event_time += 1.0
            lag = time.time() - event_time
            await asyncio.sleep(1.0 / speedup if lag > 0 else 1.0)
    finally:
        await producer.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="padit-demo", description=__doc__)
    parser.add_argument("--broker", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="padit.metrics.v1")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s demo %(message)s")

    async def _run() -> None:
        task = asyncio.ensure_future(
            run_demo(args.broker.removeprefix("kafka://"), args.topic, args.seed)
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        logger.info("producing demo metrics for %s to %s", ", ".join(SOURCES), args.topic)
        try:
            await task
        except asyncio.CancelledError:
            logger.info("demo producer stopped")

    asyncio.run(_run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
