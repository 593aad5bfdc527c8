"""HTTP adapter against real servers on loopback: fast, slow, failing, refusing, https."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest

from adapters.base import ProbeResult, classify_error
from adapters.http import HttpAdapter, HttpEndpoint
from adapters.runner import to_records
from padit_stream.schema import decode_metric
from tests.integration.conftest_adapters import *  # noqa: F403
from tests.integration.peers import HttpPeer

pytestmark = pytest.mark.integration


def adapter(**kw: Any) -> HttpAdapter:
    ep = HttpAdapter.parse_endpoint({"id": "t", **kw})
    assert isinstance(ep, HttpEndpoint)
    return HttpAdapter(ep)


async def probe(a: HttpAdapter) -> ProbeResult:
    try:
        [res] = await a.collect()
        return res
    except Exception as exc:
        # What the runner does with an exception: a failed result of that kind.
        return ProbeResult(error=classify_error(exc), detail=str(exc))
    finally:
        await a.cleanup(False)


def by_name(res: ProbeResult) -> dict[str, float]:
    return {s.metric_name: s.value for s in res.samples}


async def test_fast_server(http_peer: HttpPeer) -> None:
    res = await probe(adapter(url=http_peer.url("/")))
    assert res.ok, res.detail
    m = by_name(res)
    assert m["status_code"] == 200
    assert m["response_bytes"] == len(b"hello from padit test peer\n")
    assert m["latency_ms"] > 0
    assert 0 < m["connect_ms"] <= m["latency_ms"]
    assert 0 < m["ttfb_ms"] <= m["latency_ms"]
    assert "tls_handshake_ms" not in m and "tls_cert_days_left" not in m


async def test_each_probe_measures_a_fresh_connection(http_peer: HttpPeer) -> None:
    a = adapter(url=http_peer.url("/"))
    try:
        first = by_name((await a.collect())[0])
        second = by_name((await a.collect())[0])
    finally:
        await a.cleanup(False)
    assert "connect_ms" in first and "connect_ms" in second


async def test_failing_server_is_down_with_protocol_error(http_peer: HttpPeer) -> None:
    res = await probe(adapter(url=http_peer.url("/fail")))
    assert res.error == "protocol"
    assert by_name(res)["status_code"] == 500
    recs = to_records([res], source_id="t", protocol="http", labels={}, now=1.0)
    up = [decode_metric(v) for _, v, _ in recs if decode_metric(v).metric_name == "up"]
    assert up[0].value == 0.0 and up[0].labels["error"] == "protocol"


async def test_expected_status_accepts_500(http_peer: HttpPeer) -> None:
    res = await probe(adapter(url=http_peer.url("/fail"), expected_status=[500]))
    assert res.ok


async def test_slow_server_times_out(http_peer: HttpPeer) -> None:
    res = await probe(adapter(url=http_peer.url("/slow"), timeout_sec=0.3))
    assert res.error == "timeout"


async def test_slow_server_times_out_under_the_runner_deadline(http_peer: HttpPeer) -> None:
    a = adapter(url=http_peer.url("/slow"))
    try:
        async with asyncio.timeout(0.3):
            await a.collect()
    except TimeoutError as exc:
        assert classify_error(exc) == "timeout"
    else:
        pytest.fail("the slow server answered within the deadline")
    finally:
        await a.cleanup(True)


async def test_closed_port_is_refused() -> None:
    # A bound but not listening socket: the kernel answers SYN with RST.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        res = await probe(adapter(url=f"http://127.0.0.1:{port}/"))
    assert res.error == "refused", res.detail


async def test_https_with_test_ca(https_peer: tuple[HttpPeer, Path]) -> None:
    peer, ca = https_peer
    res = await probe(adapter(url=peer.url("/"), ca_file=str(ca)))
    assert res.ok, res.detail
    m = by_name(res)
    assert m["tls_handshake_ms"] > 0
    # trustme issues certificates valid for years; the exact span is trustme's choice.
    assert m["tls_cert_days_left"] > 300
    assert m["status_code"] == 200


async def test_https_untrusted_ca_is_tls_error(https_peer: tuple[HttpPeer, Path]) -> None:
    peer, _ = https_peer
    res = await probe(adapter(url=peer.url("/")))
    assert res.error == "tls", res.detail


async def test_https_without_verification_still_reads_expiry(
    https_peer: tuple[HttpPeer, Path],
) -> None:
    peer, _ = https_peer
    res = await probe(adapter(url=peer.url("/"), verify_tls=False))
    assert res.ok
    assert by_name(res)["tls_cert_days_left"] > 300


async def test_header_secret_comes_from_env(
    http_peer: HttpPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PADIT_TEST_TOKEN", "s3cret")
    res = await probe(
        adapter(
            url=http_peer.url("/echo-auth"), headers={"Authorization": "Bearer ${PADIT_TEST_TOKEN}"}
        )
    )
    assert res.ok
    assert by_name(res)["response_bytes"] == len("Bearer s3cret")
