"""CAN bus reader (python-can + cantools): chosen DBC signals as rate-limited metrics.

A streaming adapter. Frames are read as they arrive (the bus's file descriptor on the event
loop, or a reader thread for buses without one) and decoded into per-signal windows; every
``publish_every_sec`` each signal seen in the window yields one value per aggregate
(``<metric>`` with one aggregate, ``<metric>.<aggregate>`` with several), followed by the
counters ``can.frames``, ``can.error_frames``, ``can.unknown_frames`` (ids without a chosen
signal), ``can.decode_errors``, and ``up``: 0 with ``error=protocol`` when the window held
error frames, ``error=timeout`` when no frame came for ``silence_after_sec``, the bus's own
error kind when it cannot be opened or fails (then it is reopened with backoff).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from adapters.base import Adapter, EndpointConfig, Publish, Sample, classify_error, resolve_path
from adapters.canbus.signals import Aggregate, SignalDecoder, SignalSpec, load_dbc
from adapters.errors import ErrorKind
from adapters.stream import RecordEmitter, UnmappedLog, reconnect_delay

__all__ = ["CanAdapter", "CanEndpoint", "SignalSpec"]

log = logging.getLogger(__name__)

#: Frames handled per wake-up before yielding to the event loop.
_DRAIN_MAX = 2000


class CanEndpoint(EndpointConfig):
    """One CAN bus, its DBC and the signals to publish."""

    interface: str = Field(default="socketcan", description="python-can interface name")
    channel: str = Field(min_length=1, description="e.g. can0 (socketcan)")
    #: Extra keyword arguments of ``can.Bus`` (bitrate, fd, ...).
    bus_options: dict[str, Any] = Field(default_factory=dict)
    dbc: Path
    signals: list[SignalSpec] = Field(default_factory=list, description="empty: all signals")
    publish_every_sec: float = Field(default=1.0, gt=0)
    aggregates: list[Aggregate] = Field(default_factory=lambda: ["mean"], min_length=1)  # type: ignore[arg-type]
    silence_after_sec: float = Field(default=5.0, gt=0)
    reopen_min_sec: float = Field(default=1.0, gt=0)
    reopen_max_sec: float = Field(default=60.0, gt=0)

    @field_validator("dbc")
    @classmethod
    def _dbc_exists(cls, v: Path, info: ValidationInfo) -> Path:
        v = resolve_path(v, info)
        if not v.is_file():
            raise ValueError(f"DBC file {v} does not exist")
        return v

    @model_validator(mode="after")
    def _signals_in_dbc(self) -> CanEndpoint:
        SignalDecoder(load_dbc(self.dbc), self.signals)  # raises ValueError naming the signal
        if len(set(self.aggregates)) != len(self.aggregates):
            raise ValueError("aggregates: each at most once")
        return self


def _bus_error_kind(exc: BaseException) -> ErrorKind:
    kind = classify_error(exc)
    # python-can's own errors, and OSErrors such as EAFNOSUPPORT (no SocketCAN in this
    # kernel) or ENETDOWN: the interface or channel is not there.
    if kind == "internal" and (isinstance(exc, OSError) or type(exc).__module__.startswith("can")):
        return "unreachable"
    return kind


class CanAdapter(Adapter[CanEndpoint]):
    """Reads a CAN bus and publishes windowed signal values.

    Example:
        >>> import pathlib, tempfile
        >>> dbc = pathlib.Path(tempfile.mkdtemp()) / "e.dbc"
        >>> _ = dbc.write_text('VERSION ""\\nBO_ 256 Engine: 2 ECU\\n'
        ...     ' SG_ Rpm : 0|16@1+ (0.25,0) [0|16383] "rpm" Vector__XXX\\n')
        >>> ep = CanAdapter.parse_endpoint({"id": "car", "channel": "can0", "dbc": str(dbc)})
        >>> CanAdapter(ep).decoder.frame_ids
        {256}
    """

    name = "can"
    config_model = CanEndpoint
    protocol = "can"
    streaming = True

    def __init__(self, config: CanEndpoint, *, rng: random.Random | None = None) -> None:
        super().__init__(config)
        self.decoder = SignalDecoder(load_dbc(config.dbc), config.signals)
        self._rng = rng or random.Random()
        self.frames = 0
        self.error_frames = 0
        self.unknown_frames = 0
        self.decode_errors = UnmappedLog(config.id)
        self._window_errors = 0
        self._last_frame = time.monotonic()
        self._bus_failure: BaseException | None = None
        self._wake = asyncio.Event()

    def _open(self) -> Any:
        import can

        cfg = self.config
        return can.Bus(interface=cfg.interface, channel=cfg.channel, **cfg.bus_options)

    async def run(self, publish: Publish) -> None:
        cfg = self.config
        em = RecordEmitter(
            publish, source_id=cfg.source, protocol=self.protocol, labels=cfg.labels,
            on_up=self.on_up,
        )  # fmt: skip
        failures = 0
        while not self.stopping:
            try:
                bus = await asyncio.to_thread(self._open)
            except Exception as exc:
                failures += 1
                await em.up(False, _bus_error_kind(exc), f"{cfg.interface}:{cfg.channel}: {exc}")
                delay = reconnect_delay(failures, cfg.reopen_min_sec, cfg.reopen_max_sec, self._rng)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                continue
            failures = 0
            try:
                await self._read(bus, em)
            finally:
                with contextlib.suppress(Exception):
                    bus.shutdown()

    async def _read(self, bus: Any, em: RecordEmitter) -> None:
        loop = asyncio.get_running_loop()
        self._bus_failure = None
        self._last_frame = time.monotonic()
        fd = -1
        with contextlib.suppress(Exception):
            fd = bus.fileno()
        thread: threading.Thread | None = None
        halt = threading.Event()
        if fd >= 0:
            loop.add_reader(fd, self._drain, bus)
        else:
            thread = threading.Thread(target=self._pump, args=(bus, loop, halt), daemon=True)
            thread.start()
        try:
            while not self.stopping and self._bus_failure is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.publish_every_sec)
                await self.flush(em)
        finally:
            if fd >= 0:
                loop.remove_reader(fd)
            halt.set()
            if thread is not None:
                await asyncio.to_thread(thread.join, 2)
        if self._bus_failure is not None:
            exc = self._bus_failure
            await em.up(False, _bus_error_kind(exc), f"bus failed: {exc}")
            await asyncio.sleep(self.config.reopen_min_sec)

    def _drain(self, bus: Any) -> None:
        try:
            for _ in range(_DRAIN_MAX):
                msg = bus.recv(0)
                if msg is None:
                    return
                self.on_frame(msg)
        except Exception as exc:
            self._bus_failure = exc
            self._wake.set()

    def _pump(self, bus: Any, loop: asyncio.AbstractEventLoop, halt: threading.Event) -> None:
        while not halt.is_set():
            try:
                msg = bus.recv(0.2)
            except Exception as exc:
                loop.call_soon_threadsafe(self._fail, exc)
                return
            if msg is not None:
                loop.call_soon_threadsafe(self.on_frame, msg)

    def _fail(self, exc: BaseException) -> None:
        self._bus_failure = exc
        self._wake.set()

    def on_frame(self, msg: Any) -> None:
        """Take one ``can.Message`` into the windows and counters."""
        self.frames += 1
        self._last_frame = time.monotonic()
        if msg.is_error_frame:
            self.error_frames += 1
            self._window_errors += 1
            return
        data = bytes(msg.data)
        try:
            taken = self.decoder.feed(msg.arbitration_id, data)
        except ValueError as exc:
            self.decode_errors.add(str(exc), f"id 0x{msg.arbitration_id:X}", data)
            return
        if taken is None:
            self.unknown_frames += 1

    async def flush(self, em: RecordEmitter) -> None:
        """Publish the window's values, the counters and ``up``; start a new window."""
        now = time.time()
        aggs = self.config.aggregates
        for metric, agg, value, unit in self.decoder.flush(aggs):
            name = metric if len(aggs) == 1 else f"{metric}.{agg}"
            await em.sample(Sample(name, value, unit, timestamp=now))
        for name, count in (
            ("can.frames", self.frames),
            ("can.error_frames", self.error_frames),
            ("can.unknown_frames", self.unknown_frames),
            ("can.decode_errors", self.decode_errors.total),
        ):
            await em.sample(Sample(name, float(count), metric_type="counter", timestamp=now))
        silent = time.monotonic() - self._last_frame
        if self._window_errors:
            await em.up(False, "protocol", f"{self._window_errors} error frame(s) on the bus")
        elif silent > self.config.silence_after_sec:
            await em.up(False, "timeout", f"no frame for {silent:.1f} s")
        else:
            await em.up(True)
        self._window_errors = 0

    async def cleanup(self, failed: bool) -> None:
        log.info(
            "endpoint %s: %d frames, %d error frames, %d unknown, %d decode errors",
            self.config.id, self.frames, self.error_frames, self.unknown_frames,
            self.decode_errors.total,
        )  # fmt: skip
