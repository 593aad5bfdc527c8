"""UDP echo (RFC 862) round-trip time and loss."""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import time
from dataclasses import dataclass, field

from adapters.errors import ProbeError

__all__ = ["EchoStats", "udp_echo"]

_HEAD = struct.Struct("!8sI")  # per-probe nonce, sequence number


@dataclass
class EchoStats:
    sent: int
    rtts_ms: list[float] = field(default_factory=list)

    @property
    def loss_ratio(self) -> float:
        return 1.0 - len(self.rtts_ms) / self.sent if self.sent else 0.0


class _EchoProtocol(asyncio.DatagramProtocol):
    def __init__(self, nonce: bytes, sent_at: dict[int, float], stats: EchoStats) -> None:
        self.nonce = nonce
        self.sent_at = sent_at
        self.stats = stats
        self.error: Exception | None = None
        self.all_back = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        now = time.perf_counter()
        if len(data) < _HEAD.size:
            return
        nonce, seq = _HEAD.unpack_from(data)
        # A reply to an earlier probe (same port reused) or a duplicate is not counted.
        t0 = self.sent_at.pop(seq, None) if nonce == self.nonce else None
        if t0 is not None:
            self.stats.rtts_ms.append((now - t0) * 1e3)
            if not self.sent_at and len(self.stats.rtts_ms) == self.stats.sent:
                self.all_back.set()

    def error_received(self, exc: Exception) -> None:
        # On a connected UDP socket an ICMP port unreachable arrives here as ECONNREFUSED.
        self.error = exc


async def udp_echo(
    host: str,
    port: int,
    *,
    count: int = 5,
    interval: float = 0.01,
    wait_sec: float = 1.0,
    size: int = 64,
) -> EchoStats:
    """Send ``count`` datagrams to an echo server and time the replies.

    Raises:
        ConnectionRefusedError: the port is closed (ICMP port unreachable).
        ProbeError: no reply came back at all (``timeout``).

    Example:
        >>> import asyncio
        >>> async def demo() -> EchoStats:
        ...     loop = asyncio.get_running_loop()
        ...     class Echo(asyncio.DatagramProtocol):
        ...         def connection_made(self, t): self.t = t
        ...         def datagram_received(self, data, addr): self.t.sendto(data, addr)
        ...     server, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        ...     try:
        ...         return await udp_echo("127.0.0.1", server.get_extra_info("sockname")[1])
        ...     finally:
        ...         server.close()
        >>> st = asyncio.run(demo())
        >>> st.sent, st.loss_ratio
        (5, 0.0)
    """
    loop = asyncio.get_running_loop()
    stats = EchoStats(sent=0)
    sent_at: dict[int, float] = {}
    nonce = os.urandom(8)
    proto = _EchoProtocol(nonce, sent_at, stats)
    transport, _ = await loop.create_datagram_endpoint(lambda: proto, remote_addr=(host, port))
    try:
        pad = b"\0" * max(0, size - _HEAD.size)
        for seq in range(count):
            if seq:
                await asyncio.sleep(interval)
            sent_at[seq] = time.perf_counter()
            stats.sent += 1
            transport.sendto(_HEAD.pack(nonce, seq) + pad)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proto.all_back.wait(), wait_sec)
    finally:
        transport.close()
    if not stats.rtts_ms:
        if proto.error is not None:
            raise proto.error
        raise ProbeError("timeout", f"no UDP echo from {host}:{port} within {wait_sec} s")
    return stats
