"""UDP echo (RFC 862) sub-probe of the O-RAN adapter against socat."""

from __future__ import annotations

import asyncio
import socket

import pytest

from adapters.oran import OranAdapter
from adapters.oran.udp_echo import udp_echo
from tests.integration.conftest_adapters import *  # noqa: F403
from tests.integration.peers import SocatEcho

pytestmark = pytest.mark.integration


def oran(port: int, **udp: object) -> OranAdapter:
    ep = OranAdapter.parse_endpoint(
        {"id": "ru", "host": "127.0.0.1", "udp_echo": {"port": port, **udp}}
    )
    return OranAdapter(ep)  # type: ignore[arg-type]


async def test_rtt_and_loss_against_socat(socat_echo: SocatEcho) -> None:
    stats = await udp_echo("127.0.0.1", socat_echo.port, count=10, interval=0.005, wait_sec=2)
    assert stats.sent == 10
    # socat forks a child per peer and may drop a datagram that arrives during the fork, so
    # exact loss is checked against the peers below; most replies must come back.
    assert len(stats.rtts_ms) >= 5
    assert stats.loss_ratio == pytest.approx(1 - len(stats.rtts_ms) / 10)
    assert all(r > 0 for r in stats.rtts_ms)


async def test_adapter_metrics_against_socat(socat_echo: SocatEcho) -> None:
    [res] = await oran(socat_echo.port, count=4, wait_ms=2000).collect()
    assert res.probe == "udp_echo" and res.ok, res.detail
    m = {s.metric_name: s for s in res.samples}
    assert set(m) == {"udp_echo.rtt_ms", "udp_echo.rtt_max_ms", "udp_echo.loss_ratio"}
    assert 0 < m["udp_echo.rtt_ms"].value <= m["udp_echo.rtt_max_ms"].value
    assert 0 <= m["udp_echo.loss_ratio"].value < 1


class Echo(asyncio.DatagramProtocol):
    """An in-process echo peer that answers every ``keep``-th datagram (1: all)."""

    def __init__(self, keep: int = 1) -> None:
        self.keep = keep
        self.n = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.n += 1
        if self.n % self.keep == 1 or self.keep == 1:
            self.t.sendto(data, addr)  # type: ignore[attr-defined]


async def echo_stats(keep: int, count: int) -> tuple[int, float]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: Echo(keep), local_addr=("127.0.0.1", 0)
    )
    try:
        port = transport.get_extra_info("sockname")[1]
        stats = await udp_echo("127.0.0.1", port, count=count, interval=0.002, wait_sec=0.5)
    finally:
        transport.close()
    return stats.sent, stats.loss_ratio


async def test_no_loss_against_a_non_forking_peer() -> None:
    assert await echo_stats(keep=1, count=10) == (10, 0.0)


async def test_partial_loss_is_measured() -> None:
    sent, loss = await echo_stats(keep=2, count=6)
    assert sent == 6
    assert loss == pytest.approx(0.5)


async def test_closed_port_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port now: the kernel answers with ICMP port unreachable.
    [res] = await oran(port, count=2, wait_ms=500).collect()
    assert res.error == "refused", res.detail


async def test_silent_peer_is_timeout() -> None:
    # A bound socket that never answers: datagrams are accepted and dropped.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        [res] = await oran(s.getsockname()[1], count=2, wait_ms=200).collect()
    assert res.error == "timeout"
