"""SNMP adapter (pysnmp) against Debian's snmpd with its own config, v2c and v3 authPriv."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Sample, classify_error
from adapters.snmp import SnmpAdapter
from tests.integration.kafka_run import run_into_kafka
from tests.integration.peer_snmpd import COUNTER_OID, GAUGE_OID, Snmpd

pytestmark = pytest.mark.integration


@pytest.fixture
def snmpd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Snmpd]:
    try:
        agent = Snmpd(tmp_path)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    monkeypatch.setenv("PADIT_TEST_COMMUNITY", agent.community)
    monkeypatch.setenv("PADIT_TEST_AUTH", agent.auth_key)
    monkeypatch.setenv("PADIT_TEST_PRIV", agent.priv_key)
    with agent:
        yield agent


V3 = {"user": Snmpd.user, "auth_key_env": "PADIT_TEST_AUTH", "priv_key_env": "PADIT_TEST_PRIV"}


def adapter(agent: Snmpd, **kw: Any) -> SnmpAdapter:
    base: dict[str, Any] = {"id": "agent", "host": "127.0.0.1", "port": agent.port,
                            "timeout_sec": 2}  # fmt: skip
    if kw.get("version") != "v3":
        base["community_env"] = "PADIT_TEST_COMMUNITY"
    return SnmpAdapter(SnmpAdapter.parse_endpoint({**base, **kw}))  # type: ignore[arg-type]


async def probe_twice(a: SnmpAdapter, between: Any = None) -> tuple[list[Sample], list[Sample]]:
    try:
        [one] = await a.collect()
        if between is not None:
            between()
        [two] = await a.collect()
    finally:
        await a.cleanup(False)
    assert one.ok and two.ok, (one.detail, two.detail)
    return one.samples, two.samples


def kernel_ifindexes() -> dict[str, str]:
    return {p.name: (p / "ifindex").read_text().strip() for p in Path("/sys/class/net").iterdir()}


def named(samples: list[Sample]) -> dict[str, Sample]:
    return {s.metric_name: s for s in samples}


@pytest.mark.parametrize("version", ["v2c", "v3"])
async def test_counter32_wraps_into_a_rate(snmpd: Snmpd, version: str) -> None:
    snmpd.set_counter(2**32 - 6)
    extra = {"version": "v3", "v3": V3} if version == "v3" else {}
    a = adapter(snmpd, get=[{"oid": COUNTER_OID, "name": "events"},
                            {"oid": GAUGE_OID, "name": "level"}], **extra)  # fmt: skip
    one, two = await probe_twice(a, lambda: snmpd.set_counter(9))
    m1, m2 = named(one), named(two)
    assert "events" not in m1  # a rate needs two readings
    assert m1["level"].value == m2["level"].value == 42
    dt = m2["events"].timestamp - m1["level"].timestamp  # type: ignore[operator]
    assert m2["events"].value * dt == pytest.approx(15)  # 2^32 - 6 -> 9 is +15
    assert m2["events"].metric_type == "rate"
    assert m2["snmp.uptime_sec"].value >= m1["snmp.uptime_sec"].value > 0


async def test_interface_table_by_ifindex_with_ifname(snmpd: Snmpd) -> None:
    a = adapter(snmpd, interfaces={"columns": ["ifHCInOctets", "ifInOctets", "ifOperStatus"]})
    # snmpd re-reads the kernel's counters every few seconds (its interface cache): probe
    # until the counters have moved (our own SNMP traffic crosses lo), at most 30 times.
    try:
        [first] = await a.collect()
        one = first.samples
        for _ in range(30):
            await asyncio.sleep(0.5)
            [res] = await a.collect()
            two = res.samples
            if named(two)["if.lo.ifHCInOctets"].value > 0:
                break
    finally:
        await a.cleanup(False)
    names = {s.labels["ifIndex"]: s.labels["ifName"] for s in one if s.labels}
    # The kernel's own interface list, read independently of SNMP.
    kernel = kernel_ifindexes()
    assert "lo" in names.values()
    for idx, name in names.items():
        assert kernel.get(name) == idx
    lo = named(two)
    # Our own SNMP traffic crossed lo between the probes: 64- and 32-bit counters moved.
    assert lo["if.lo.ifHCInOctets"].value > 0 and lo["if.lo.ifInOctets"].value > 0
    assert lo["if.lo.ifHCInOctets"].labels == {"ifIndex": kernel["lo"], "ifName": "lo"}
    assert lo["if.lo.ifOperStatus"].value in (1.0, 7.0)  # up, or lowerLayerDown-less "unknown"


async def test_walk_names_rows_by_suffix(snmpd: Snmpd) -> None:
    a = adapter(snmpd, walk=[{"oid": "1.3.6.1.4.1.99999", "name": "ext"}])
    _, two = await probe_twice(a)
    assert named(two)["ext.2.0"].value == 42
    assert "ext.1.0" in named(two)  # the counter, as a rate


@pytest.mark.parametrize(
    ("kw", "kind"),
    [
        ({"version": "v3", "v3": {**V3, "auth_key_env": "PADIT_TEST_PRIV"}}, "auth"),
        ({"version": "v3", "v3": {**V3, "user": "nobody"}}, "auth"),
        ({"community_env": "PADIT_TEST_AUTH"}, "timeout"),  # snmpd ignores a wrong community
    ],
)
async def test_failures_are_kinds(snmpd: Snmpd, kw: dict[str, Any], kind: str) -> None:
    a = adapter(snmpd, get=[{"oid": "sysUpTime.0"}], timeout_sec=0.5, **kw)
    try:
        with pytest.raises(Exception) as info:
            await a.collect()
    finally:
        await a.cleanup(True)
    assert classify_error(info.value) == kind, info.value


async def test_v3_interfaces_through_kafka(
    kafka_bootstrap: str, snmpd: Snmpd, tmp_path: Path
) -> None:
    yaml = f"""
        adapters:
          - name: snmp
            interval_sec: 0.4
            timeout_sec: 5  # the first v3 probe also discovers the engine
            endpoints:
              - id: agent
                host: 127.0.0.1
                port: {snmpd.port}
                version: v3
                v3:
                  user: {snmpd.user}
                  auth_key_env: PADIT_TEST_AUTH
                  priv_key_env: PADIT_TEST_PRIV
                get: [{{oid: "SNMPv2-MIB::sysUpTime.0", name: uptime_ticks}}]
                interfaces: {{columns: [ifHCInOctets]}}
    """
    async with run_into_kafka(kafka_bootstrap, tmp_path, yaml) as run:
        await run.wait_for(lambda s: bool(run.named("if.lo.ifHCInOctets")), "an interface rate")
    s = run.samples
    assert {x.value for x in s if x.metric_name == "up"} == {1.0}
    [rate, *_] = run.named("if.lo.ifHCInOctets")
    assert rate.protocol == "snmp" and rate.metric_type == "rate" and rate.labels["ifName"] == "lo"
    assert run.named("uptime_ticks")[0].value > 0
