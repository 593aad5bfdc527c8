"""eCPRI one-way delay (message type 5) against a responder; tshark checks the packets."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import pytest

from adapters.oran import OranAdapter
from adapters.oran.ecpri import ecpri_one_way_delay, serve_responder
from tests.integration.conftest_adapters import *  # noqa: F403
from tests.integration.peers import TsharkCapture

pytestmark = pytest.mark.integration


async def test_delay_against_responder() -> None:
    transport, responder = await serve_responder()
    try:
        port = transport.get_extra_info("sockname")[1]
        stats = await ecpri_one_way_delay("127.0.0.1", port, count=5, wait_sec=2)
    finally:
        transport.close()
    assert responder.answered == 5
    assert len(stats.delays_ns) == 5 and stats.loss_ratio == 0.0
    # One clock on both sides: the delay is the loopback transit, positive and well under
    # the wait. (Bounds from the setup, not from the code.)
    assert all(0 < d < 2e9 for d in stats.delays_ns)


async def test_compensation_values_are_subtracted() -> None:
    # (t2 - tCV2) - (t1 + tCV1): equal extra compensation on both sides shifts by 2x.
    base_t, _ = await serve_responder()
    comp_t, _ = await serve_responder(compensation_ns=5_000_000)
    try:
        base = await ecpri_one_way_delay(
            "127.0.0.1", base_t.get_extra_info("sockname")[1], count=3, wait_sec=2
        )
        comp = await ecpri_one_way_delay(
            "127.0.0.1",
            comp_t.get_extra_info("sockname")[1],
            count=3,
            wait_sec=2,
            compensation_ns=5_000_000,
        )
    finally:
        base_t.close()
        comp_t.close()
    assert min(base.delays_ns) > 0
    assert max(comp.delays_ns) < 0  # 10 ms of compensation exceeds the loopback transit
    assert min(comp.delays_ns) > -10_000_000


async def test_adapter_reports_delay_and_refused() -> None:
    transport, _ = await serve_responder()
    port = transport.get_extra_info("sockname")[1]
    try:
        ep = OranAdapter.parse_endpoint(
            {"id": "ru", "host": "127.0.0.1", "ecpri": {"port": port, "count": 3}}
        )
        [res] = await OranAdapter(ep).collect()  # type: ignore[arg-type]
    finally:
        transport.close()
    assert res.probe == "ecpri" and res.ok, res.detail
    names = {s.metric_name for s in res.samples}
    assert names == {"ecpri.one_way_delay_us", "ecpri.one_way_delay_max_us", "ecpri.loss_ratio"}
    # The responder is gone: the port refuses now.
    [res] = await OranAdapter(ep).collect()  # type: ignore[arg-type]
    assert res.error == "refused"


async def test_tshark_decodes_requests_and_responses(tmp_path: Path) -> None:
    transport, _ = await serve_responder(compensation_ns=250.5)
    port = transport.get_extra_info("sockname")[1]
    try:
        with TsharkCapture("lo", f"udp port {port}", tmp_path / "ecpri.pcap") as cap:
            stats = await ecpri_one_way_delay(
                "127.0.0.1", port, count=3, wait_sec=2, compensation_ns=1000.25
            )
            await asyncio.sleep(0.2)
    finally:
        transport.close()
    assert len(stats.delays_ns) == 3
    decode_as = f"udp.port=={port},ecpri"
    fields = cap.decode(
        "-d", decode_as, "-T", "fields",
        "-e", "ecpri.type", "-e", "ecpri.revision", "-e", "ecpri.actiontype",
    )  # fmt: skip
    rows = [line.split("\t") for line in fields.splitlines() if line.strip()]
    assert len(rows) == 6, fields
    assert {r[0] for r in rows} == {"0x05"}, fields
    actions = sorted(int(r[2], 0) for r in rows)
    assert actions == [0, 0, 0, 2, 2, 2]
    verbose = cap.decode("-d", decode_as, "-V")
    assert verbose.count("One-Way Delay Measurement") >= 6
    expert = cap.decode("-d", decode_as, "-q", "-z", "expert")
    assert not re.search(r"\b(Warning|Error)s?\b\s*\(", expert), expert


def test_tshark_flags_a_malformed_packet(tmp_path: Path) -> None:
    # The check above can fail: a Request with Follow_Up carrying a timestamp is flagged.
    import socket

    from adapters.oran.ecpri import encode_delay_message

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        port = rx.getsockname()[1]
        with (
            TsharkCapture("lo", f"udp port {port}", tmp_path / "bad.pcap") as cap,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
        ):
            msg = encode_delay_message(1, 0x01, 1_700_000_000_123_456_789)
            tx.sendto(msg, ("127.0.0.1", port))
    expert = cap.decode("-d", f"udp.port=={port},ecpri", "-q", "-z", "expert")
    assert re.search(r"\b(Warning|Error)s?\b\s*\(", expert), expert


@pytest.fixture(autouse=True)
def _need_tshark(request: pytest.FixtureRequest) -> None:
    if (
        "tshark" in request.node.name
        and subprocess.run(["which", "tshark"], capture_output=True).returncode
    ):
        pytest.skip("tshark not installed; run scripts/install-peers.sh")
