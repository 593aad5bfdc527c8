"""A real Prometheus 2.42 scrapes a PADIT worker; promtool checks the exposition and rules;
the Grafana dashboards reference only metrics the worker really exposes."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.integration.monitoring_peers import Prometheus, WebhookSink, require
from tests.integration.peers import free_port
from tests.stream_support import REPO_ROOT, Stream, Worker, metric_records, produce

pytestmark = pytest.mark.integration

T0 = 1_767_225_600.0
RULES = REPO_ROOT / "config" / "prometheus" / "padit-rules.yml"
DASHBOARDS = sorted((REPO_ROOT / "config" / "grafana").glob("*.json"))
JOB = "padit-worker"
Monitored = tuple[Stream, Worker, Prometheus, WebhookSink]


def _until(what: str, check: Callable[[], Any], log: Callable[[], str]) -> Any:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within 120 s\n{log()}")


def _value(prom: Prometheus, expr: str) -> float:
    result = prom.query(expr)
    return float(result[0]["value"][1]) if result else 0.0


@pytest.fixture(scope="module")
def monitored(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Monitored]:
    tmp = tmp_path_factory.mktemp("prometheus")
    doc = yaml.safe_load((REPO_ROOT / "config" / "padit.yaml").read_text())
    # An Alertmanager nobody runs: its client's metrics exist, with errors.
    doc["alertmanager"] = {"urls": [f"http://127.0.0.1:{free_port()}"], "resend_interval_sec": 2}
    doc["alerting"]["route"].update(group_wait="1s", group_interval="2s")
    config = tmp / "padit.yaml"
    config.write_text(yaml.safe_dump(doc))
    sink = WebhookSink()
    stream = Stream(
        kafka_bootstrap,
        tmp,
        PADIT_EMIT_EVERY_SEC="0",
        PADIT_SERIES_SCORES="true",
        PADIT_CONFIG=str(config),
        PADIT_WEBHOOK_URL=sink.url("/hook"),
    )
    prom = None
    try:
        worker = stream.worker()
        worker.wait_ready()
        prom = Prometheus(tmp / "prom", {JOB: [f"127.0.0.1:{worker.port}"]}, [RULES])
        prom.start()
        yield stream, worker, prom, sink
    finally:
        if prom is not None:
            prom.stop()
        stream.close()
        sink.close()


def _spike(source: str, start: float) -> list[tuple[bytes, bytes]]:
    normal = [(start + i, 5.0 + i / 10) for i in range(10)]
    spike = [(start + 10 + i, 50.0 + 10 * i) for i in range(5)]
    return metric_records(source, "latency_ms", normal + spike)


def test_prometheus_sees_the_counters_increase(
    monitored: Monitored,
) -> None:
    stream, worker, prom, sink = monitored
    log = worker.log_tail
    _until(
        "the worker target up",
        lambda: any(t["health"] == "up" for t in prom.targets()),
        lambda: f"{prom.targets()}\n{log()}",
    )
    metrics = stream.topic("metrics")
    first = [*_spike("du-a", T0), (b"bad", b"not json"), (b"bad", b"{}")]
    asyncio.run(produce(stream.bootstrap, metrics, first))
    records_in = f'padit_records_in_total{{job="{JOB}", topic="{metrics}"}}'
    _until("the first records counted", lambda: _value(prom, records_in) >= len(first), log)

    second = _spike("du-b", T0 + 100)
    asyncio.run(produce(stream.bootstrap, metrics, second))
    _until(
        "the counter increasing",
        lambda: _value(prom, records_in) >= len(first) + len(second),
        log,
    )
    assert _value(prom, f"increase({records_in}[1m])") > 0

    bad = 'padit_dead_letters_total{stage="decode", reason="invalid"}'
    assert _until("dead letters counted", lambda: _value(prom, bad), log) == 2
    anomalies = stream.topic("anomalies")
    assert _value(prom, f'padit_outputs_total{{topic="{anomalies}"}}') >= 30
    assert _value(prom, "padit_batch_duration_seconds_count") > 0
    assert _value(prom, "padit_detector_evaluation_seconds_count") > 0
    assert _value(prom, "padit_end_to_end_lag_seconds_count") > 0
    assert _value(prom, f'sum(padit_consumer_lag{{topic="{metrics}"}})') == 0
    assert _value(prom, 'padit_series_held{state="window"}') == 2
    assert _value(prom, "padit_rebalances_total") >= 1
    assert _value(prom, "padit_state_recovery_seconds_count") >= 1
    assert prom.query('padit_build_info{version="0.1.0"}')

    # The opt-in per-series gauges, on the worker that owns the series.
    score = 'padit_series_anomaly_score{source_id="du-a", metric_name="latency_ms"}'
    _until("the series score", lambda: prom.query(score), log)
    firing = 'padit_series_alert_state{source_id="du-a", metric_name="latency_ms"}'
    assert _until("du-a firing", lambda: _value(prom, firing) == 2, log)
    assert _until("firing alerts", lambda: _value(prom, 'sum(padit_alerts{state="firing"})'), log)
    assert _value(prom, 'padit_series_value{source_id="du-a"}') == 90.0  # the last spike value

    # The notification stage's webhook delivery, and the transitions it saw.
    sent = "sum(padit_notifications_sent_total)"
    delivery = lambda: f"{sink.received} {httpx.get(f'{worker.url}/alerts/delivery').text}\n{log()}"  # noqa: E731
    assert _until("the webhook delivery counted", lambda: _value(prom, sent), delivery) >= 1
    assert _value(prom, 'sum(padit_alert_transitions_total{status="firing"})') >= 2

    # Dead letters rising: the example rule goes pending (its for: is 1m).
    rule = 'ALERTS{alertname="PaditDeadLettersRising", stage="decode"}'
    _until("PaditDeadLettersRising", lambda: prom.query(rule), log)


def test_exposition_passes_promtool(monitored: Monitored) -> None:
    _, worker, _, _ = monitored
    text = httpx.get(f"{worker.url}/metrics", timeout=10).text
    check = subprocess.run(
        [require("promtool"), "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == "" and check.stderr.strip() == "", check.stdout + check.stderr


def _exposed(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names.add(name)
            if kind == "counter":
                names.add(f"{name}_total")
            if kind == "histogram":
                names.update(f"{name}_{s}" for s in ("bucket", "count", "sum"))
            if kind == "info":
                names.add(f"{name}_info")
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def test_dashboards_reference_only_exposed_metrics(
    monitored: Monitored,
) -> None:
    _, worker, _, _ = monitored
    exposed = _exposed(httpx.get(f"{worker.url}/metrics", timeout=10).text)
    assert DASHBOARDS, "no dashboards in config/grafana"
    for path in DASHBOARDS:
        doc = json.loads(path.read_text())
        exprs = [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]
        exprs += [v["query"] for v in doc["templating"]["list"] if v.get("type") == "query"]
        assert exprs, path
        used = {m for e in exprs for m in re.findall(r"\b(?:padit|process)_[a-z_]+", e)}
        assert used, path
        missing = sorted(used - exposed)
        assert not missing, f"{path.name} uses metrics the worker does not expose: {missing}"
    # The committed JSON is what the generator writes.
    regen = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "grafana_dashboards.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert regen.returncode == 0, regen.stdout + regen.stderr


def test_worker_down_rule_fires(monitored: Monitored) -> None:
    _, worker, prom, _ = monitored
    worker.stop()
    _until(
        "PaditWorkerDown",
        lambda: prom.query(f'ALERTS{{alertname="PaditWorkerDown", job="{JOB}"}}'),
        worker.log_tail,
    )


def test_rules_pass_promtool(tmp_path: Path) -> None:
    promtool = require("promtool")
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = REPO_ROOT / "config" / "prometheus" / "prometheus.yml"
    checked = subprocess.run([promtool, "check", "config", str(config)], capture_output=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The rules fire on the conditions they describe, and not before their for: elapsed.
    w = f'job="{JOB}", instance="w1"'
    tests = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": f"up{{{w}}}", "values": "1 1 0 0 0 0"},
                    {
                        "series": f'padit_dead_letters_total{{{w}, stage="decode", '
                        'reason="invalid"}',
                        "values": "0 0 0 0 10 20 30 40",
                    },
                    {
                        "series": f'padit_consumer_lag{{{w}, topic="m", partition="0"}}',
                        "values": "0 20000x10",
                    },
                ],
                "alert_rule_test": [
                    {"eval_time": "2m", "alertname": "PaditWorkerDown", "exp_alerts": []},
                    {
                        "eval_time": "3m",
                        "alertname": "PaditWorkerDown",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "critical",
                                    "job": JOB,
                                    "instance": "w1",
                                },
                                "exp_annotations": {
                                    "summary": "PADIT worker w1 is down",
                                    "description": "Prometheus has not been able to scrape w1 "
                                    "for 1 minute.",
                                },
                            }
                        ],
                    },
                    {"eval_time": "3m", "alertname": "PaditDeadLettersRising", "exp_alerts": []},
                    {"eval_time": "4m", "alertname": "PaditConsumerLagHigh", "exp_alerts": []},
                    {
                        "eval_time": "7m",
                        "alertname": "PaditConsumerLagHigh",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "instance": "w1",
                                    "topic": "m",
                                },
                                "exp_annotations": {
                                    "summary": "PADIT worker w1 lags on m",
                                    "description": "20000 records of m are waiting to be read.",
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "rules-test.yml"
    path.write_text(yaml.safe_dump(tests))
    tested = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
