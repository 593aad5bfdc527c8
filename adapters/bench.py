"""``python -m adapters.bench``: what one adapters process handles, for MQTT and CAN.

MQTT: Debian's mosquitto on a free loopback port and a publisher process (paho) sending
``--messages`` QoS 0 messages as fast as it can (half plain numbers, half JSON with two
fields), into one :class:`~adapters.mqtt.MqttAdapter`. CAN: ``python -m can.player
--ignore-timestamps`` sending ``--frames`` frames from a candump log over python-can's
``udp_multicast`` bus (an interface-local IPv6 group: nothing leaves the host) into one
:class:`~adapters.canbus.CanAdapter` aggregating 2 signals per 1 s window.

Records go to an in-memory sink unless ``--broker`` names Kafka (then through the same
idempotent producer as ``padit-adapters run``). Printed per adapter: messages (frames) in,
records out, wall time and the adapter process's CPU seconds, and the rates per wall second
and per CPU second -- the latter is the capacity of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from adapters.base import Publish

__all__ = ["main"]

_PUBLISHER = """
import json, sys, paho.mqtt.client as mqtt
port, n = int(sys.argv[1]), int(sys.argv[2])
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
c.max_queued_messages_set(0)
c.connect("127.0.0.1", port)
c.loop_start()
for i in range(n):
    dev = f"dev{i % 100}"
    if i % 2:
        c.publish(f"bench/{dev}/num/temp", str(20 + i % 10))
    else:
        c.publish(f"bench/{dev}/env", json.dumps({"s": {"t": i % 30, "h": [0.5]}}))
c.loop_stop()
c.disconnect()
"""

_DBC = """VERSION ""
BO_ 256 Engine: 3 ECU
 SG_ Rpm : 0|16@1+ (0.25,0) [0|16383.75] "rpm" Vector__XXX
 SG_ Temp : 16|8@1+ (1,-40) [-40|215] "C" Vector__XXX
"""


@dataclass
class Figures:
    name: str
    inputs: int
    sent: int
    records: int
    wall: float
    cpu: float

    def line(self) -> str:
        return (
            f"{self.name:5s} in {self.inputs:>8d} (of {self.sent:>8d} sent)  "
            f"out {self.records:>8d} records  wall {self.wall:6.2f} s  cpu {self.cpu:6.2f} s  "
            f"in/s {self.inputs / self.wall:>9.0f}  out/s {self.records / self.wall:>9.0f}  "
            f"in/cpu-s {self.inputs / max(self.cpu, 1e-9):>9.0f}  "
            f"out/cpu-s {self.records / max(self.cpu, 1e-9):>9.0f}"
        )


class _Sink:
    def __init__(self) -> None:
        self.records = 0

    async def publish(self, key: bytes, value: bytes, ts: float) -> None:
        self.records += 1


@contextlib.asynccontextmanager
async def _publisher(broker: str | None) -> AsyncIterator[tuple[Publish, _Sink]]:
    sink = _Sink()
    if broker is None:
        yield sink.publish, sink
        return
    from adapters.runner import KafkaPublisher

    async with KafkaPublisher(broker, f"padit.bench.adapters-{os.getpid()}") as pub:

        async def both(key: bytes, value: bytes, ts: float) -> None:
            await pub.publish(key, value, ts)
            sink.records += 1

        yield both, sink


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def _settle(counter: object, attr: str, quiet_sec: float = 1.0) -> None:
    """Wait until ``counter.attr`` stops growing for ``quiet_sec``."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < quiet_sec:
        cur = getattr(counter, attr)
        if cur != last:
            last, since = cur, time.monotonic()
        await asyncio.sleep(0.05)


async def bench_mqtt(n: int, broker: str | None, tmp: Path) -> Figures:
    from adapters.mqtt import MqttAdapter

    if shutil.which("mosquitto") is None:
        raise SystemExit("mosquitto not installed: run scripts/install-peers.sh")
    port = _free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nuser root\n"
    )
    mosq = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)  # noqa: ASYNC220
    try:
        while not _listening(port):  # noqa: ASYNC110 - a port, not an event
            await asyncio.sleep(0.02)
        ep = MqttAdapter.parse_endpoint({
            "id": "bench", "host": "127.0.0.1", "port": port, "status_every_sec": 3600,
            "subscriptions": [
                {"topic": "bench/+/num/+", "source": "{1}", "metric": "{3}"},
                {"topic": "bench/+/env", "source": "{1}", "metric": "env.{field}",
                 "payload": "json", "json_fields": {"t": "s.t", "h": "s.h[0]"}},
            ],
        })  # fmt: skip
        adapter = MqttAdapter(ep)  # type: ignore[arg-type]
        async with _publisher(broker) as (publish, sink):
            task = asyncio.create_task(adapter.run(publish))
            while adapter.connects == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            cpu0, t0 = time.process_time(), time.perf_counter()
            pub = await asyncio.create_subprocess_exec(
                sys.executable, "-c", _PUBLISHER, str(port), str(n)
            )
            await pub.wait()
            await _settle(adapter, "messages")
            wall, cpu = time.perf_counter() - t0 - 1.0, time.process_time() - cpu0
            adapter.stop()
            await task
        return Figures("mqtt", adapter.messages, n, sink.records, wall, cpu)
    finally:
        mosq.terminate()
        mosq.wait(5)


async def bench_can(n: int, broker: str | None, tmp: Path) -> Figures:
    from adapters.canbus import CanAdapter

    dbc = tmp / "bench.dbc"
    dbc.write_text(_DBC)
    log = tmp / "bench.log"
    with log.open("w") as fh:
        for i in range(n):
            raw = (800 + i % 4000) * 4
            fh.write(f"({1.7e9 + i * 1e-4:.6f}) vcan0 100#{raw & 0xFF:02X}{raw >> 8:02X}3C\n")
    group = f"ff11::{random.randrange(1, 0xFFFF):x}:{random.randrange(1, 0xFFFF):x}"
    ep = CanAdapter.parse_endpoint({
        "id": "bench", "interface": "udp_multicast", "channel": group, "dbc": str(dbc),
        "publish_every_sec": 1.0, "aggregates": ["mean", "max"], "silence_after_sec": 3600,
    })  # fmt: skip
    adapter = CanAdapter(ep)  # type: ignore[arg-type]
    async with _publisher(broker) as (publish, sink):
        task = asyncio.create_task(adapter.run(publish))
        await asyncio.sleep(0.5)  # the bus is open and has joined the group
        cpu0, t0 = time.process_time(), time.perf_counter()
        player = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "can.player", "--ignore-timestamps", "-i", "udp_multicast",
            "-c", group, str(log), stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await player.wait()
        await _settle(adapter, "frames")
        wall, cpu = time.perf_counter() - t0 - 1.0, time.process_time() - cpu0
        adapter.stop()
        await task
    return Figures("can", adapter.frames, n, sink.records, wall, cpu)


async def _main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="padit-bench-") as d:
        tmp = Path(d)
        sink = f"Kafka {args.broker}" if args.broker else "in memory"
        sys.stdout.write(f"adapters bench: one process, sink {sink}, {os.cpu_count()} cores\n")
        for _ in range(args.repeat):
            if args.only in (None, "mqtt"):
                sys.stdout.write((await bench_mqtt(args.messages, args.broker, tmp)).line() + "\n")
            if args.only in (None, "can"):
                sys.stdout.write((await bench_can(args.frames, args.broker, tmp)).line() + "\n")
            sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m adapters.bench", description=__doc__)
    p.add_argument("--messages", type=int, default=50_000, help="MQTT messages to send")
    p.add_argument("--frames", type=int, default=50_000, help="CAN frames to send")
    p.add_argument("--broker", help="publish into this Kafka (host:port) instead of memory")
    p.add_argument("--only", choices=["mqtt", "can"])
    p.add_argument("--repeat", type=int, default=1)
    asyncio.run(_main(p.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
