"""CFM loopback (LBM/LBR over raw Ethernet) across a veth pair between two namespaces."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.oran import OranAdapter
from adapters.oran.ecpri import serve_responder
from adapters.runner import to_records
from padit_stream.schema import decode_metric
from tests.integration.conftest_adapters import *  # noqa: F403
from tests.integration.peers import PYTHON, REPO_ROOT, TsharkCapture, VethNamespaces

pytestmark = pytest.mark.integration

PROBE = textwrap.dedent(
    """
    import asyncio, json, sys
    from adapters.oran import OranAdapter
    ep = OranAdapter.parse_endpoint(json.loads(sys.argv[1]))
    [res] = asyncio.run(OranAdapter(ep).collect())
    print(json.dumps({"error": res.error, "detail": res.detail,
                      "samples": {s.metric_name: s.value for s in res.samples}}))
    """
)


@pytest.fixture
def responder(veth_netns: VethNamespaces) -> Iterator[VethNamespaces]:
    """An LBM responder on the ``b`` end, started and bound before the test sends."""
    proc = subprocess.Popen(
        veth_netns.exec(veth_netns.b, PYTHON, "-m", "adapters.oran.cfm", "respond", veth_netns.ifb),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("ready"), "responder did not start"
        yield veth_netns
    finally:
        proc.terminate()
        proc.wait(10)


def probe_from_a(ns: VethNamespaces, target_mac: str, **lbm: object) -> dict[str, object]:
    endpoint = {
        "id": "ru",
        "host": "127.0.0.1",
        "lbm": {"interface": ns.ifa, "target_mac": target_mac, **lbm},
    }
    out = subprocess.run(
        ns.exec(ns.a, PYTHON, "-c", PROBE, json.dumps(endpoint)),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_lbm_rtt_across_veth_and_tshark_decodes(responder: VethNamespaces, tmp_path: Path):
    ns = responder
    with TsharkCapture(ns.ifb, "ether proto 0x8902", tmp_path / "cfm.pcap", netns=ns.b) as cap:
        res = probe_from_a(ns, ns.mac_b, count=4, md_level=5, interval_ms=5, wait_ms=2000)
    assert res["error"] is None, res["detail"]
    samples = res["samples"]
    assert isinstance(samples, dict)
    assert samples["lbm.loss_ratio"] == 0.0
    assert 0 < samples["lbm.rtt_ms"] <= samples["lbm.rtt_max_ms"]

    text = cap.decode()
    assert text.count("Loopback Message (LBM)") == 4, text
    assert text.count("Loopback Reply (LBR)") == 4, text
    fields = cap.decode(
        "-T", "fields", "-e", "cfm.md.level", "-e", "cfm.opcode", "-e", "cfm.lb.transaction.id"
    )
    rows = [line.split("\t") for line in fields.splitlines() if line.strip()]
    assert {r[0] for r in rows} == {"5"}, fields
    lbm_ids = sorted(r[2] for r in rows if r[1] == "3")
    lbr_ids = sorted(r[2] for r in rows if r[1] == "2")
    assert lbm_ids == lbr_ids and len(set(lbm_ids)) == 4


def test_no_responder_is_timeout_and_full_loss(veth_netns: VethNamespaces) -> None:
    res = probe_from_a(veth_netns, veth_netns.mac_b, count=2, wait_ms=300)
    assert res["error"] == "timeout"


def test_unknown_interface_is_reported(veth_netns: VethNamespaces) -> None:
    # The a namespace has no interface called like b's end.
    endpoint = {
        "id": "ru",
        "host": "127.0.0.1",
        "lbm": {"interface": veth_netns.ifb, "target_mac": veth_netns.mac_b},
    }
    out = subprocess.run(
        veth_netns.exec(veth_netns.a, PYTHON, "-c", PROBE, json.dumps(endpoint)),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    res = json.loads(out)
    assert res["error"] == "unreachable"
    assert "No such device" in res["detail"]


async def test_without_cap_net_raw_lbm_is_down_and_others_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import adapters.oran.cfm as cfm

    def no_raw(ifname: str) -> object:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(cfm, "_open", no_raw)
    transport, _ = await serve_responder()
    try:
        ep = OranAdapter.parse_endpoint(
            {
                "id": "ru",
                "host": "127.0.0.1",
                "ecpri": {"port": transport.get_extra_info("sockname")[1], "count": 2},
                "lbm": {"interface": "lo", "target_mac": "02:00:00:00:00:01"},
            }
        )
        results = await OranAdapter(ep).collect()  # type: ignore[arg-type]
    finally:
        transport.close()
    by_probe = {r.probe: r for r in results}
    assert by_probe["lbm"].error == "permission"
    assert by_probe["ecpri"].ok and by_probe["ecpri"].samples
    metrics = {
        m.metric_name: m
        for m in (
            decode_metric(v)
            for _, v, _ in to_records(results, source_id="ru", protocol="oran", labels={}, now=1.0)
        )
    }
    assert metrics["lbm.up"].value == 0.0 and metrics["lbm.up"].labels == {"error": "permission"}
    assert metrics["ecpri.up"].value == 1.0
    assert "ecpri.one_way_delay_us" in metrics
    assert metrics["up"].labels == {"error": "permission", "probe": "lbm"}
