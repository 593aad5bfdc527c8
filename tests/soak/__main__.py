"""``make soak``: three workers, seeded faults, then proof that nothing was lost or doubled.

    python -m tests.soak [--minutes 20] [--seed 1] [--rate 0] [--series 200]

A broker of its own, three worker processes, a webhook receiver and a feeder run on
loopback. The feeder first measures the rate the three workers sustain (a generation of
series sent as fast as it can, timed until the group has committed all of it), then feeds at
half that rate while faults strike at seeded times (see ``plan.fault_schedule``). The soak
itself plays the supervisor: a worker that exits is started again, as Kubernetes would.

At the end it drains the input and checks that every good metric was applied exactly once
(each window against an uninterrupted offline run), every alert that fired reached the
receiver, every worker is up, and the dead-letter topic holds the bad records and nothing
else. It prints a table of the faults and one of the checks, and exits 1 if a check failed.
Not part of ``make test``: it runs for a long time by design.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from padit_stream.core.series import SeriesConfig
from tests.integration.receivers import HttpReceiver
from tests.kafka_support import KafkaBroker
from tests.soak.plan import METRIC, BadRecord, Fault, Generation, bad_burst, fault_schedule
from tests.stream_support import REPO_ROOT, Stream, Worker

log = logging.getLogger("soak")

SESSION_TIMEOUT_SEC = 10
PAUSE_SEC = 2.5 * SESSION_TIMEOUT_SEC  # a SIGSTOP past the session timeout
BROKER_DOWN_SEC = 15
RECEIVER_DOWN_SEC = 45
KILL_RESTART_SEC = 5


class Feeder:
    """Sends generation after generation at a set rate, pausable while the broker is down."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, n_series: int, seed: int) -> None:
        self.producer, self.topic, self.n_series, self.seed = producer, topic, n_series, seed
        self.config = SeriesConfig(emit_every=60.0)
        self.generation = Generation(0, n_series, seed, self.config)
        self.expected: dict[str, dict[str, Any]] = {}
        self.sent = 0
        self.failed: list[str] = []
        self.running = asyncio.Event()
        self.running.set()

    def _done(self, fut: asyncio.Future[Any]) -> None:
        if fut.exception() is not None:
            self.failed.append(repr(fut.exception()))

    async def send_round(self) -> None:
        for key, value in self.generation.next_round():
            fut = await self.producer.send(self.topic, value=value, key=key)
            fut.add_done_callback(self._done)
        self.sent += self.n_series
        if self.generation.done:
            self._close_generation()

    def _close_generation(self) -> None:
        gen = self.generation
        self.expected.update(gen.expected())
        # The offline states are the bulk of the feeder's memory: keep only the answers.
        self.generation = Generation(gen.index + 1, self.n_series, self.seed, self.config)

    async def feed(self, rate: float, seconds: float) -> None:
        start, sent0 = time.monotonic(), self.sent
        told = start
        while time.monotonic() - start < seconds:
            await self.running.wait()
            if time.monotonic() - told > 30:
                told = time.monotonic()
                log.info("fed %d metrics in %.0f s", self.sent - sent0, told - start)
            await self.send_round()
            ahead = (self.sent - sent0) / rate - (time.monotonic() - start)
            if ahead > 0:
                await asyncio.sleep(ahead)
            else:
                await asyncio.sleep(0)

    async def finish(self) -> None:
        """Close the open generation where it is, so every series sent is checked."""
        if self.generation.round:
            self._close_generation()
        await self.producer.flush()


async def group_lag(bootstrap: str, group: str, topic: str) -> int:
    """Records of ``topic`` the group has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    # Subscribed (without a group) so that its metadata knows the topic's partitions.
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not parts:
            raise RuntimeError(f"no partitions known for {topic}")
        ends = await consumer.end_offsets(parts)
        committed = await admin.list_consumer_group_offsets(group, partitions=parts)
        return sum(ends[tp] - (committed[tp].offset if committed.get(tp) else 0) for tp in parts)
    finally:
        await consumer.stop()
        await admin.close()


async def wait_drained(bootstrap: str, group: str, topic: str, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if await group_lag(bootstrap, group, topic) <= 0:
                return time.monotonic() - start
        except Exception as exc:  # the broker may be coming back: ask again
            log.info("lag query failed: %r", exc)
        await asyncio.sleep(1.0)
    raise TimeoutError(f"{topic}: group {group} still behind after {timeout:.0f} s")


async def read_all(bootstrap: str, topic: str, quiet_sec: float = 5.0) -> list[Any]:
    """Every record of ``topic``, read until nothing new has come for ``quiet_sec``."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        out: list[Any] = []
        last = time.monotonic()
        while time.monotonic() - last < quiet_sec:
            batch = await consumer.getmany(timeout_ms=500)
            for msgs in batch.values():
                out.extend(msgs)
                last = time.monotonic()
        return out
    finally:
        await consumer.stop()


async def answers(worker: Worker, path: str) -> bool:
    """``/health`` (making progress) or ``/ready`` (connected, recovered, not rebalancing)."""
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(f"{worker.url}{path}")).status_code == 200
    except httpx.HTTPError:
        return False


async def wait_ready(workers: list[Worker], timeout: float = 240.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if all([await answers(w, "/ready") for w in workers]):
            return time.monotonic() - start
        await asyncio.sleep(1.0)
    raise TimeoutError(f"workers not ready after {timeout:.0f} s")


class Soak:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.broker = KafkaBroker(data_dir=tmp / "kafka")
        self.receiver = HttpReceiver()
        self.planned_down: set[int] = set()
        self.unplanned_exits: list[str] = []
        self.injected: list[BadRecord] = []
        self.outcomes: list[tuple[Fault, str]] = []
        self.bursts = 0

    def _config(self) -> Path:
        doc = yaml.safe_load((REPO_ROOT / "config" / "padit.yaml").read_text())
        doc["alerting"]["route"].update(group_wait="1s", group_interval="2s")
        path = self.tmp / "padit.yaml"
        path.write_text(yaml.safe_dump(doc))
        return path

    async def supervise(self) -> None:
        """Start again any worker that exited without the soak asking it to."""
        while True:
            for i, w in enumerate(self.workers):
                if i not in self.planned_down and not w.alive():
                    code = w.proc.returncode if w.proc else None
                    self.unplanned_exits.append(f"w{i} exit {code}")
                    log.warning("w%d exited (%s): starting it again", i, code)
                    w.start()
            await asyncio.sleep(1.0)

    async def strike(self, fault: Fault) -> str:
        w = self.workers[fault.target]
        if fault.kind == "kill9":
            self.planned_down.add(fault.target)
            w.kill()
            await asyncio.sleep(KILL_RESTART_SEC)
            w.start()
            self.planned_down.discard(fault.target)
            took = await wait_ready(self.workers)
            return f"w{fault.target} killed; restarted, all ready {took:.0f} s later"
        if fault.kind == "sigstop":
            assert w.proc is not None
            os.kill(w.proc.pid, signal.SIGSTOP)
            try:
                await asyncio.sleep(PAUSE_SEC)
            finally:  # a stopped worker left behind would look like a hung one
                os.kill(w.proc.pid, signal.SIGCONT)
            took = await wait_ready(self.workers)
            return f"w{fault.target} paused {PAUSE_SEC:.0f} s; all ready {took:.0f} s after"
        if fault.kind == "broker_bounce":
            self.feeder.running.clear()
            try:
                await self.feeder.producer.flush()
                await asyncio.to_thread(self.broker.down)
                await asyncio.sleep(BROKER_DOWN_SEC)
            finally:  # whatever failed, the broker comes back and the feed goes on
                await asyncio.to_thread(self.broker.start)
                self.feeder.running.set()
            took = await wait_ready(self.workers)
            return f"broker down {BROKER_DOWN_SEC} s; all ready {took:.0f} s after restart"
        if fault.kind == "receiver_down":
            await self.receiver.go_down()
            await asyncio.sleep(RECEIVER_DOWN_SEC)
            await self.receiver.come_back()
            return f"webhook receiver refused connections for {RECEIVER_DOWN_SEC} s"
        if fault.kind == "bad_burst":
            gen = self.feeder.generation
            live = [gen.source(s) for s in range(gen.n_series)]
            burst = bad_burst(self.bursts, live, self.args.seed)
            self.bursts += 1
            for rec in burst:
                await self.feeder.producer.send(self.stream.topic("metrics"), rec.value, rec.key)
            await self.feeder.producer.flush()
            self.injected += burst
            kinds = Counter(r.kind for r in burst)
            return ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        raise ValueError(fault.kind)

    async def faults(self, start: float) -> None:
        for fault in fault_schedule(self.args.minutes * 60, self.args.seed):
            await asyncio.sleep(max(0.0, start + fault.at_sec - time.monotonic()))
            log.info("fault at %.0f s: %s", fault.at_sec, fault.kind)
            try:
                outcome = await self.strike(fault)
            except Exception as exc:
                outcome = f"FAILED: {exc!r}"
            self.outcomes.append((fault, outcome))
            log.info("  -> %s", outcome)

    async def run(self) -> bool:
        args = self.args
        await asyncio.to_thread(self.broker.start)
        await self.receiver.start()
        self.stream = Stream(
            self.broker.bootstrap,
            self.tmp,
            PADIT_PARTITIONS="12",
            PADIT_SESSION_TIMEOUT_SEC=str(SESSION_TIMEOUT_SEC),
            PADIT_STANDBY_REPLICAS=str(args.standby),
            PADIT_CONFIG=str(self._config()),
            PADIT_WEBHOOK_URL=self.receiver.url("/hook"),
        )
        self.workers = [self.stream.worker(f"w{i}") for i in range(3)]
        for w in self.workers:
            await asyncio.to_thread(w.wait_ready, 180)
        producer = AIOKafkaProducer(
            bootstrap_servers=self.broker.bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=20,
            max_request_size=2_000_000,
            request_timeout_ms=120_000,
        )
        await producer.start()
        self.feeder = Feeder(producer, self.stream.topic("metrics"), args.series, args.seed)
        group = self.stream.env["PADIT_APP_ID"]
        topic = self.stream.topic("metrics")
        supervisor = asyncio.ensure_future(self.supervise())
        try:
            rate = args.rate
            if not rate:
                t = time.monotonic()
                while not self.feeder.generation.done:
                    await self.feeder.send_round()
                await producer.flush()
                await wait_drained(self.broker.bootstrap, group, topic, 600)
                sustained = self.feeder.sent / (time.monotonic() - t)
                rate = sustained / 2
                log.info("sustained %.0f metrics/s; soaking at %.0f/s", sustained, rate)
            start = time.monotonic()
            striking = asyncio.ensure_future(self.faults(start))
            await self.feeder.feed(rate, args.minutes * 60)
            await striking
            await self.feeder.finish()
            drained = await wait_drained(self.broker.bootstrap, group, topic, 900)
            log.info("input drained %.0f s after the feed stopped", drained)
            checks = await self.check()
        finally:
            supervisor.cancel()
            await producer.stop()
        self.report(rate, checks)
        return all(ok for *_, ok in checks)

    async def check(self) -> list[tuple[str, str, str, bool]]:
        checks: list[tuple[str, str, str, bool]] = []
        bootstrap = self.broker.bootstrap
        checks.append(
            ("producer sends failed", "0", str(len(self.feeder.failed)), not self.feeder.failed)
        )
        # Every good metric applied once: each window equals the offline run's.
        sem = asyncio.Semaphore(16)
        wrong: Counter[str] = Counter()
        sources = list(self.feeder.expected)

        async def one(i: int, client: httpx.AsyncClient) -> None:
            source = sources[i]
            want = self.feeder.expected[source]
            url = f"{self.workers[i % 3].url}/windows/{source}/{METRIC}"
            async with sem:
                for _ in range(30):
                    r = await client.get(url)
                    if r.status_code != 503:
                        break
                    await asyncio.sleep(1)
            got = r.json() if r.status_code in (200, 404) else {}
            count = got.get("count", 0)
            if count < want["count"]:
                wrong["lost"] += want["count"] - count
            elif count > want["count"]:
                wrong["doubled"] += count - want["count"]
            elif got.get("features") != want["features"]:
                wrong["windows differing"] += 1

        async with httpx.AsyncClient(timeout=30) as client:
            await asyncio.gather(*(one(i, client) for i in range(len(sources))))
        total = sum(w["count"] for w in self.feeder.expected.values())
        checks.append(
            (
                f"good metrics applied exactly once ({len(sources)} series)",
                f"{total} applied once",
                ", ".join(f"{n} {k}" for k, n in wrong.items()) or f"{total} applied once",
                not wrong,
            )
        )
        # Every alert that fired reached the receiver.
        alerts = [
            orjson.loads(r.value) for r in await read_all(bootstrap, self.stream.topic("alerts"))
        ]
        fired = {
            (a["source_id"], a["metric_name"])
            for a in alerts
            if a["status"] == "firing" and (a.get("mute_status") or {}).get("state") != "suppressed"
        }

        def delivered() -> set[tuple[str, str]]:
            return {
                (a["labels"].get("source_id"), a["labels"].get("metric_name"))
                for r in self.receiver.accepted
                for a in r.json["alerts"]
                if a["status"] == "firing"
            }

        for _ in range(180):  # retries after the receiver's outage take a while
            if fired <= delivered():
                break
            await asyncio.sleep(1)
        missing = fired - delivered()
        checks.append(
            (
                "alerts that fired reached the receiver",
                f"{len(fired)} delivered",
                f"{len(fired) - len(missing)} delivered, {len(missing)} missing",
                not missing,
            )
        )
        # No worker is down.
        up = [await answers(w, "/health") and await answers(w, "/ready") for w in self.workers]
        checks.append(("workers up, healthy and ready", "3", str(sum(up)), all(up)))
        # The dead-letter topic holds the bad records and nothing else.
        dead = await read_all(bootstrap, self.stream.topic("deadletter"))
        seen: Counter[str] = Counter()
        for r in dead:
            headers = dict(r.headers)
            digest = headers.get("padit-value-sha256", b"").decode() or (
                hashlib.sha256(r.value or b"").hexdigest()
            )
            seen[digest] += 1
        want = {r.digest for r in self.injected}
        missing_dl = want - set(seen)
        extra = set(seen) - want
        copies = sum(n - 1 for d, n in seen.items() if d in want)
        checks.append(
            (
                "dead letters are the bad records",
                f"{len(want)} bad records, nothing else",
                f"{len(want) - len(missing_dl)} of them, {len(extra)} others"
                f" ({copies} redelivered copies)",
                not missing_dl and not extra,
            )
        )
        return checks

    def report(self, rate: float, checks: list[tuple[str, str, str, bool]]) -> None:
        lines = [
            "",
            f"soak: {self.args.minutes} min, seed {self.args.seed}, 3 workers, "
            f"{rate:,.0f} metrics/s, {self.feeder.sent:,} good metrics",
            "",
            f"{'at':>7}  {'fault':<14} outcome",
        ]
        lines += [f"{f.at_sec:>6.0f}s  {f.kind:<14} {outcome}" for f, outcome in self.outcomes]
        lines.append(
            f"{'':>7}  {'(unplanned)':<14} worker exits the soak restarted: "
            f"{', '.join(self.unplanned_exits) or 'none'}"
        )
        lines += ["", f"{'check':<52} {'expected':<28} {'got':<40} ok"]
        lines += [f"{c:<52} {e:<28} {g:<40} {'yes' if ok else 'NO'}" for c, e, g, ok in checks]
        sys.stdout.write("\n".join(lines) + "\n")

    async def close(self) -> None:
        if hasattr(self, "stream"):
            self.stream.close()
        await self.receiver.stop()
        await asyncio.to_thread(self.broker.down)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=20.0, help="feeding time (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="fault times and data (default 1)")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="metrics/s; 0 (default): half the sustained rate"
    )
    parser.add_argument("--standby", type=int, default=1, help="standby replicas (default 1)")
    parser.add_argument("--series", type=int, default=200, help="concurrent series (default 200)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="padit-soak-"))
    log.info("logs and data in %s", tmp)
    soak = Soak(args, tmp)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # so that the workers and the broker are stopped

    signal.signal(signal.SIGTERM, interrupted)

    async def go() -> bool:
        try:
            return await soak.run()
        finally:
            await soak.close()

    return 0 if asyncio.run(go()) else 1


if __name__ == "__main__":
    sys.exit(main())
