"""eCPRI one-way delay measurement (message type 5) over UDP, and a responder for tests.

A Request carries t1 and the sender's compensation tCV1; the responder stamps t2 on arrival
and answers with a Response carrying t2 and its compensation tCV2. The one-way delay is
``(t2 - tCV2) - (t1 + tCV1)`` (eCPRI 2.0, 3.2.4.6); it is meaningful when both clocks are
synchronised (PTP on a real fronthaul, one clock on loopback).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from adapters.errors import ProbeError

__all__ = [
    "ACTION_REQUEST",
    "ACTION_RESPONSE",
    "DelayStats",
    "EcpriDelayMessage",
    "EcpriResponder",
    "decode_delay_message",
    "ecpri_one_way_delay",
    "encode_delay_message",
    "serve_responder",
]

MSG_ONE_WAY_DELAY = 5
ACTION_REQUEST = 0x00
ACTION_RESPONSE = 0x02
_REVISION = 1
_HEADER = struct.Struct("!BBH")
# Measurement ID, Action Type, timestamp (48-bit seconds, 32-bit ns), compensation (ns * 2^16).
_PAYLOAD = struct.Struct("!BBHIIq")
_NS = 1_000_000_000


class EcpriDelayMessage(NamedTuple):
    measurement_id: int
    action: int
    timestamp_ns: int
    compensation_ns: float


def encode_delay_message(
    measurement_id: int, action: int, timestamp_ns: int, compensation_ns: float = 0.0
) -> bytes:
    """One eCPRI message 5 (common header + payload, no dummy bytes).

    Example:
        >>> msg = encode_delay_message(7, ACTION_REQUEST, 1_700_000_000_123_456_789, 1.5)
        >>> decode_delay_message(msg)
        EcpriDelayMessage(measurement_id=7, action=0, timestamp_ns=1700000000123456789, \
compensation_ns=1.5)
    """
    sec, ns = divmod(timestamp_ns, _NS)
    payload = _PAYLOAD.pack(
        measurement_id & 0xFF,
        action,
        (sec >> 32) & 0xFFFF,
        sec & 0xFFFFFFFF,
        ns,
        round(compensation_ns * 65536),
    )
    # Byte 0: revision 1 in the high nibble, reserved bits and C (concatenation) = 0.
    return _HEADER.pack(_REVISION << 4, MSG_ONE_WAY_DELAY, len(payload)) + payload


def decode_delay_message(data: bytes) -> EcpriDelayMessage:
    """Parse an eCPRI message 5; raises ``ProbeError('protocol')`` on anything else."""
    if len(data) < _HEADER.size + _PAYLOAD.size:
        raise ProbeError("protocol", f"eCPRI message too short ({len(data)} bytes)")
    first, msg_type, size = _HEADER.unpack_from(data)
    if first >> 4 != _REVISION or msg_type != MSG_ONE_WAY_DELAY or size < _PAYLOAD.size:
        raise ProbeError(
            "protocol", f"not an eCPRI one-way delay message (rev {first >> 4}, type {msg_type})"
        )
    mid, action, sec_hi, sec_lo, ns, comp = _PAYLOAD.unpack_from(data, _HEADER.size)
    if ns >= _NS:
        raise ProbeError("protocol", f"eCPRI timestamp nanoseconds out of range: {ns}")
    return EcpriDelayMessage(mid, action, ((sec_hi << 32) | sec_lo) * _NS + ns, comp / 65536)


@dataclass
class DelayStats:
    sent: int
    delays_ns: list[float] = field(default_factory=list)

    @property
    def loss_ratio(self) -> float:
        return 1.0 - len(self.delays_ns) / self.sent if self.sent else 0.0


class _Client(asyncio.DatagramProtocol):
    def __init__(self, pending: dict[int, tuple[int, float]], stats: DelayStats) -> None:
        self.pending = pending
        self.stats = stats
        self.error: Exception | None = None
        self.bad: str | None = None
        self.done = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            msg = decode_delay_message(data)
        except ProbeError as exc:
            self.bad = exc.message
            return
        if msg.action != ACTION_RESPONSE or msg.measurement_id not in self.pending:
            return
        t1, tcv1 = self.pending.pop(msg.measurement_id)
        self.stats.delays_ns.append((msg.timestamp_ns - msg.compensation_ns) - (t1 + tcv1))
        if not self.pending:
            self.done.set()

    def error_received(self, exc: Exception) -> None:
        self.error = exc


async def ecpri_one_way_delay(
    host: str,
    port: int,
    *,
    count: int = 5,
    interval: float = 0.01,
    wait_sec: float = 1.0,
    compensation_ns: float = 0.0,
    first_measurement_id: int = 0,
) -> DelayStats:
    """Measure the one-way delay to an eCPRI node with ``count`` Requests.

    Raises:
        ConnectionRefusedError: nothing listens on the port.
        ProbeError: ``protocol`` if only malformed replies came, ``timeout`` if none.
    """
    loop = asyncio.get_running_loop()
    stats = DelayStats(sent=0)
    pending: dict[int, tuple[int, float]] = {}
    proto = _Client(pending, stats)
    transport, _ = await loop.create_datagram_endpoint(lambda: proto, remote_addr=(host, port))
    try:
        for i in range(min(count, 256)):
            if i:
                await asyncio.sleep(interval)
            mid = (first_measurement_id + i) & 0xFF
            t1 = time.time_ns()
            pending[mid] = (t1, compensation_ns)
            stats.sent += 1
            transport.sendto(encode_delay_message(mid, ACTION_REQUEST, t1, compensation_ns))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proto.done.wait(), wait_sec)
    finally:
        transport.close()
    if not stats.delays_ns:
        if proto.error is not None:
            raise proto.error
        if proto.bad is not None:
            raise ProbeError("protocol", proto.bad)
        raise ProbeError("timeout", f"no eCPRI response from {host}:{port} within {wait_sec} s")
    return stats


class EcpriResponder(asyncio.DatagramProtocol):
    """Answers one-way delay Requests with Responses (a test peer, or a simple reflector).

    Args:
        compensation_ns: the tCV2 it reports.
    """

    def __init__(self, compensation_ns: float = 0.0) -> None:
        self.compensation_ns = compensation_ns
        self.transport: asyncio.DatagramTransport | None = None
        self.answered = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        t2 = time.time_ns()
        try:
            msg = decode_delay_message(data)
        except ProbeError:
            return
        if msg.action == ACTION_REQUEST and self.transport is not None:
            reply = encode_delay_message(
                msg.measurement_id, ACTION_RESPONSE, t2, self.compensation_ns
            )
            self.transport.sendto(reply, addr)
            self.answered += 1


async def serve_responder(
    host: str = "127.0.0.1", port: int = 0, compensation_ns: float = 0.0
) -> tuple[asyncio.DatagramTransport, EcpriResponder]:
    """Start an :class:`EcpriResponder` (its port: ``transport.get_extra_info('sockname')``)."""
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        lambda: EcpriResponder(compensation_ns), local_addr=(host, port)
    )
    return transport, proto
