"""Prometheus exposition scrape against Debian's node exporter (and a prometheus-client
exposition for OpenMetrics), through the real Kafka broker."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Sample, classify_error
from adapters.prom import PromAdapter
from tests.integration.kafka_run import run_into_kafka
from tests.integration.peer_prom import NodeExporter, PyExporter

pytestmark = pytest.mark.integration

TEXTFILE = """
    # TYPE padit_test_requests_total counter
    padit_test_requests_total{{site="a",path="/x"}} {requests}
    padit_test_requests_total{{site="b",path="/x"}} 7
    # TYPE padit_test_temp gauge
    padit_test_temp{{site="a"}} 21.5
    padit_test_temp{{site="b"}} 19
    # TYPE padit_test_latency_seconds histogram
    padit_test_latency_seconds_bucket{{site="a",le="0.1"}} {b01}
    padit_test_latency_seconds_bucket{{site="a",le="0.5"}} {b05}
    padit_test_latency_seconds_bucket{{site="a",le="1"}} {b1}
    padit_test_latency_seconds_bucket{{site="a",le="+Inf"}} {binf}
    padit_test_latency_seconds_sum{{site="a"}} {sum}
    padit_test_latency_seconds_count{{site="a"}} {binf}
"""
RELABEL = [
    {"regex": "padit_test_.*|node_load1"},
    {"action": "drop", "source_labels": ["__name__", "site"], "regex": "padit_test_.*;b"},
    {"action": "labeldrop", "regex": "path"},
]


@pytest.fixture
def node_exporter(tmp_path: Path) -> Iterator[NodeExporter]:
    try:
        peer = NodeExporter(tmp_path)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    with peer:
        yield peer


def adapter(url: str, **kw: Any) -> PromAdapter:
    return PromAdapter(PromAdapter.parse_endpoint({"id": "node", "url": url, **kw}))  # type: ignore[arg-type]


def by_name(samples: list[Sample]) -> dict[str, Sample]:
    return {s.metric_name: s for s in samples}


async def test_rates_quantiles_relabel_and_source_label(node_exporter: NodeExporter) -> None:
    node_exporter.write(TEXTFILE.format(requests=100, b01=1, b05=5, b1=8, binf=10, sum=4))
    a = adapter(node_exporter.url(), relabel=RELABEL, source_label="site",
                quantiles=[0.25, 0.5, 0.9])  # fmt: skip
    try:
        [first] = await a.collect()
        # Between the scrapes: 40 more requests; 40 more observations spread over the buckets
        # as 0 in (0, 0.1], 10 in (0.1, 0.5], 20 in (0.5, 1], 10 above 1.
        node_exporter.write(TEXTFILE.format(requests=140, b01=1, b05=15, b1=38, binf=50, sum=34))
        [second] = await a.collect()
    finally:
        await a.cleanup(False)
    assert first.ok and second.ok, (first.detail, second.detail)
    one, two = by_name(first.samples), by_name(second.samples)
    # Gauges from the first scrape on; counters and histograms need two.
    assert one["padit_test_temp"].value == 21.5 and one["padit_test_temp"].source_id == "a"
    assert not any(":" in name for name in one)
    assert "node_load1" in one and one["node_load1"].source_id is None
    # Dropped: site b, and every series the keep rule does not name.
    assert not any('site="b"' in n or n.startswith("node_cpu") for n in two)
    rate = two["padit_test_requests_total:rate"]
    dt = rate.timestamp - one["padit_test_temp"].timestamp  # type: ignore[operator]
    assert rate.value * dt == pytest.approx(40, rel=1e-6)
    assert rate.labels == {} and rate.metric_type == "rate"  # path dropped, site is the source
    q = {s.labels["quantile"]: s.value for s in second.samples
         if s.metric_name.startswith("padit_test_latency_seconds:quantile")}  # fmt: skip
    # rank 10 of 40 ends the (0.1, 0.5] bucket; rank 20 is halfway through (0.5, 1];
    # rank 36 is above 1, which histogram_quantile reports as the highest finite bound.
    assert q == pytest.approx({"0.25": 0.5, "0.5": 0.75, "0.9": 1.0})
    mean = two["padit_test_latency_seconds_sum:rate"].value / two[
        "padit_test_latency_seconds_count:rate"].value  # fmt: skip
    assert mean == pytest.approx(30 / 40)
    assert two["scrape.format"].labels == {"format": "text"}


async def test_bucket_rates_mode(node_exporter: NodeExporter) -> None:
    node_exporter.write(TEXTFILE.format(requests=1, b01=1, b05=5, b1=8, binf=10, sum=4))
    a = adapter(node_exporter.url(), relabel=[{"regex": "padit_test_latency.*"}],
                histogram="buckets")  # fmt: skip
    try:
        await a.collect()
        node_exporter.write(TEXTFILE.format(requests=1, b01=1, b05=15, b1=38, binf=50, sum=34))
        [res] = await a.collect()
    finally:
        await a.cleanup(False)
    rates = {s.labels["le"]: s.value for s in res.samples if "_bucket:rate" in s.metric_name}
    scale = rates["+Inf"] / 40  # the same interval for every bucket
    assert {k: v / scale for k, v in rates.items()} == pytest.approx(
        {"0.1": 0, "0.5": 10, "1": 30, "+Inf": 40}
    )


async def test_openmetrics_from_a_prometheus_client_exposition() -> None:
    with PyExporter() as exp:
        a = adapter(exp.url(), relabel=[{"regex": "padit_om_.*"}], quantiles=[0.5])
        try:
            [one] = await a.collect()
            exp.do("inc", 3)
            for x in (0.2, 0.7, 0.8, 0.9):
                exp.do("observe", x)
            [two] = await a.collect()
        finally:
            await a.cleanup(False)
    m1, m2 = by_name(one.samples), by_name(two.samples)
    assert m1["scrape.format"].labels == {"format": "openmetrics"}
    assert not any("_created" in n for n in m2)
    rate = m2['padit_om_events_total:rate{kind="a"}']
    assert rate.value * (rate.timestamp - m1["scrape.format"].timestamp) == pytest.approx(3)  # type: ignore[operator]
    # 1 observation in (0, 0.5], 3 in (0.5, 1]: rank 2 is a third into (0.5, 1].
    assert m2['padit_om_seconds:quantile{quantile="0.5"}'].value == pytest.approx(0.5 + 0.5 / 3)


async def test_failures_are_kinds(node_exporter: NodeExporter) -> None:
    for url, kind in [
        (node_exporter.url("/nope"), "protocol"),
        (node_exporter.url("/"), "protocol"),
    ]:
        a = adapter(url)
        try:
            with pytest.raises(Exception) as info:
                await a.collect()
        finally:
            await a.cleanup(True)
        assert classify_error(info.value) == kind, info.value
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    try:
        a = adapter(f"http://127.0.0.1:{closed.getsockname()[1]}/metrics")
        with pytest.raises(Exception) as info:
            await a.collect()
        await a.cleanup(True)
    finally:
        closed.close()
    assert classify_error(info.value) == "refused"


async def test_node_exporter_through_kafka(
    kafka_bootstrap: str, node_exporter: NodeExporter, tmp_path: Path
) -> None:
    yaml = f"""
        adapters:
          - name: prometheus
            interval_sec: 0.3
            endpoints:
              - id: node
                url: "{node_exporter.url()}"
                relabel:
                  - {{regex: "node_load1|node_context_switches_total|node_cpu_seconds_total"}}
                  - {{action: drop, source_labels: [mode], regex: "(irq|softirq|steal|nice)"}}
    """
    async with run_into_kafka(kafka_bootstrap, tmp_path, yaml) as run:
        await run.wait_for(
            lambda s: any(x.metric_name == "node_context_switches_total:rate" for x in s),
            "a counter rate",
        )
    s = run.samples
    assert {(x.value, x.labels.get("error")) for x in s if x.metric_name == "up"} == {(1.0, None)}
    rates = [x for x in s if x.metric_name == "node_context_switches_total:rate"]
    assert rates and all(x.value > 0 and x.protocol == "prometheus" for x in rates)
    modes = {x.labels["mode"] for x in s if x.metric_name.startswith("node_cpu_seconds_total")}
    assert "idle" in modes and not modes & {"irq", "softirq", "steal", "nice"}
    assert all(x.source_id == "node" for x in s)
