"""NETCONF sub-probe against Debian's netconfd (yuma123) behind a private sshd on loopback."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Sample
from adapters.oran import OranAdapter
from tests.integration.conftest_adapters import *  # noqa: F403
from tests.integration.peers import NetconfPeer

pytestmark = pytest.mark.integration

SYS_NS = "urn:ietf:params:xml:ns:yang:ietf-system"


def oran(peer: NetconfPeer, key: Path | None = None, **netconf: Any) -> OranAdapter:
    ep = OranAdapter.parse_endpoint(
        {
            "id": "ru",
            "host": "127.0.0.1",
            "port": peer.port,
            "username": "root",
            "key_file": str(key or peer.key_file),
            "hostkey_verify": False,
            "timeout_sec": 15,
            "netconf": netconf or True,
        }
    )
    return OranAdapter(ep)  # type: ignore[arg-type]


async def poll(a: OranAdapter) -> list[Sample]:
    [res] = await a.collect()
    assert res.probe == "netconf"
    assert res.ok, res.detail
    return res.samples


def blast_loopback(nbytes: int) -> None:
    """Send ``nbytes`` of UDP payload over lo (to a socket that reads nothing)."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
    ):
        rx.bind(("127.0.0.1", 0))
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
        chunk = b"x" * 8192
        for _ in range(nbytes // len(chunk)):
            tx.sendto(chunk, rx.getsockname())


async def test_interface_counters_become_rates(netconf_peer: NetconfPeer) -> None:
    a = oran(netconf_peer)
    try:
        t0 = time.monotonic()
        first = await poll(a)
        # The first poll has no previous value: only the RPC latency, no rates yet.
        assert [s.metric_name for s in first] == ["netconf.rpc_ms"]
        await asyncio.to_thread(blast_loopback, 4 << 20)
        # netconfd caches interface statistics for about a second.
        await asyncio.sleep(1.5)
        second = await poll(a)
        elapsed = time.monotonic() - t0
    finally:
        await a.cleanup(False)
    rates = {s.metric_name: s for s in second if s.metric_type == "rate"}
    lo_in = rates["if.lo.in_octets"]
    assert lo_in.unit == "B/s" and lo_in.labels == {"interface": "lo"}
    # The polls were less than `elapsed` apart and at least 4 MiB crossed lo in between
    # (UDP payload alone), so the rate is at least 4 MiB / elapsed.
    assert lo_in.value >= (4 << 20) / elapsed
    assert rates["if.lo.in_errors"].value >= 0
    assert rates["if.lo.in_unicast_pkts"].unit == "1/s"


async def test_xpath_filter(netconf_peer: NetconfPeer) -> None:
    a = oran(
        netconf_peer,
        filter="/if:interfaces-state/if:interface[if:name='lo']",
        filter_type="xpath",
        namespaces={"if": "urn:ietf:params:xml:ns:yang:ietf-interfaces"},
    )
    try:
        await poll(a)
        second = await poll(a)
    finally:
        await a.cleanup(False)
    interfaces = {s.labels["interface"] for s in second if "interface" in s.labels}
    assert interfaces == {"lo"}


async def test_subscription_receives_config_change(netconf_peer: NetconfPeer) -> None:
    a = oran(netconf_peer, subscribe=True)
    try:
        await poll(a)  # connects and subscribes
        m = await asyncio.to_thread(netconf_peer.connect)
        try:
            contact = f"padit-test-{time.time_ns()}"
            config = (
                f'<config><system xmlns="{SYS_NS}"><contact>{contact}</contact></system></config>'
            )
            await asyncio.to_thread(m.edit_config, target="candidate", config=config)
            await asyncio.to_thread(m.commit)
        finally:
            await asyncio.to_thread(m.close_session)
        events: list[Sample] = []
        async with asyncio.timeout(20):
            while not events:
                events = [
                    s for s in await poll(a) if s.metric_name == "notif.netconf-config-change"
                ]
    finally:
        await a.cleanup(False)
    [ev] = events
    assert ev.value == 1.0
    assert ev.timestamp is not None and abs(ev.timestamp - time.time()) < 3600


async def test_wrong_key_is_auth_error(netconf_peer: NetconfPeer, tmp_path: Path) -> None:
    other = tmp_path / "other_key"
    await asyncio.to_thread(
        subprocess.run,
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
        check=True,
    )
    a = oran(netconf_peer, key=other)
    try:
        [res] = await a.collect()
    finally:
        await a.cleanup(True)
    assert res.error == "auth", res.detail


async def test_closed_port_is_refused(netconf_peer: NetconfPeer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        ep = OranAdapter.parse_endpoint(
            {
                "id": "ru",
                "host": "127.0.0.1",
                "port": s.getsockname()[1],
                "key_file": str(netconf_peer.key_file),
                "hostkey_verify": False,
                "netconf": True,
            }
        )
        a = OranAdapter(ep)  # type: ignore[arg-type]
        [res] = await a.collect()
        await a.cleanup(True)
    assert res.error == "refused", res.detail


async def test_session_is_reopened_after_peer_restart(tmp_path: Path) -> None:
    # A unit that reboots: the next poll after it is back must reconnect on its own.
    from tests.integration.conftest_adapters import _need_root

    _need_root("netconfd behind sshd")
    peer = NetconfPeer(tmp_path / "a")
    with peer:
        a = oran(peer, subscribe=True)
        await poll(a)
    [res] = await a.collect()
    assert res.error in {"refused", "protocol", "internal", "timeout"}
    assert not res.ok
    with peer:  # same port and keys, fresh processes
        samples = await poll(a)
    await a.cleanup(False)
    assert samples[0].metric_name == "netconf.rpc_ms"
