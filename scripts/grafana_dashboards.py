"""Write PADIT's Grafana dashboards (config/grafana/*.json) from grafanalib definitions.

    .venv/bin/python scripts/grafana_dashboards.py [--check]

``--check`` writes nothing and fails when a committed dashboard differs from what this
script generates. The dashboards use a Prometheus data source chosen by the ``datasource``
variable, and the ``instance`` variable selects workers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from grafanalib._gen import DashboardEncoder
from grafanalib.core import (
    Dashboard,
    GridPos,
    Target,
    Template,
    Templating,
    TimeSeries,
)

OUT = Path(__file__).resolve().parent.parent / "config" / "grafana"
DS = "${datasource}"
SEL = 'job="padit-worker", instance=~"$instance"'


def _templating(extra: list[Template] | None = None) -> Templating:
    return Templating(
        list=[
            Template(name="datasource", type="datasource", query="prometheus", label="Data source"),
            Template(
                name="instance",
                label="Worker",
                dataSource=DS,
                query="label_values(padit_build_info, instance)",
                includeAll=True,
                multi=True,
                default="$__all",
            ),
            *(extra or []),
        ]
    )


def _panel(
    title: str, exprs: list[tuple[str, str]], unit: str, pos: tuple[int, int, int, int]
) -> TimeSeries:
    x, y, w, h = pos
    return TimeSeries(
        title=title,
        dataSource=DS,
        targets=[
            Target(expr=expr, legendFormat=legend, refId=chr(ord("A") + i))
            for i, (expr, legend) in enumerate(exprs)
        ],
        unit=unit,
        gridPos=GridPos(h=h, w=w, x=x, y=y),
    )


def _quantile(q: float, metric: str, by: str = "") -> str:
    group = f"le{', ' + by if by else ''}"
    return f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{{{SEL}}}[5m])))"


def worker_dashboard() -> Dashboard:
    panels = [
        _panel("Records in per topic", [(f"sum by (topic) (rate(padit_records_in_total{{{SEL}}}[5m]))", "{{topic}}")], "reqps", (0, 0, 12, 8)),  # noqa: E501
        _panel("Outputs per topic", [(f"sum by (topic) (rate(padit_outputs_total{{{SEL}}}[5m]))", "{{topic}}")], "reqps", (12, 0, 12, 8)),  # noqa: E501
        _panel("Batch time p99 per stage", [(_quantile(0.99, "padit_batch_duration_seconds", "stage"), "{{stage}}")], "s", (0, 8, 8, 8)),  # noqa: E501
        _panel("Detector time per evaluation (p50, p99)", [(_quantile(0.5, "padit_detector_evaluation_seconds"), "p50"), (_quantile(0.99, "padit_detector_evaluation_seconds"), "p99")], "s", (8, 8, 8, 8)),  # noqa: E501
        _panel("End-to-end lag (p50, p99)", [(_quantile(0.5, "padit_end_to_end_lag_seconds"), "p50"), (_quantile(0.99, "padit_end_to_end_lag_seconds"), "p99")], "s", (16, 8, 8, 8)),  # noqa: E501
        _panel("Consumer lag per topic", [(f"sum by (topic) (padit_consumer_lag{{{SEL}}})", "{{topic}}")], "short", (0, 16, 8, 8)),  # noqa: E501
        _panel("Dead letters per stage and reason", [(f"sum by (stage, reason) (rate(padit_dead_letters_total{{{SEL}}}[5m]))", "{{stage}} {{reason}}")], "reqps", (8, 16, 8, 8)),  # noqa: E501
        _panel("Series held", [(f"sum by (state) (padit_series_held{{{SEL}}})", "{{state}}")], "short", (16, 16, 8, 8)),  # noqa: E501
        _panel("Alerts by state and severity", [(f"sum by (state, severity) (padit_alerts{{{SEL}}})", "{{state}} {{severity}}")], "short", (0, 24, 8, 8)),  # noqa: E501
        _panel("Alert transitions", [(f"sum by (status, severity) (increase(padit_alert_transitions_total{{{SEL}}}[5m]))", "{{status}} {{severity}}")], "short", (8, 24, 8, 8)),  # noqa: E501
        _panel("Notifications per integration", [(f"sum by (integration) (increase(padit_notifications_sent_total{{{SEL}}}[5m]))", "sent {{integration}}"), (f"sum by (integration) (increase(padit_notifications_retried_total{{{SEL}}}[5m]))", "retried {{integration}}"), (f"sum by (integration) (increase(padit_notifications_failed_total{{{SEL}}}[5m]))", "failed {{integration}}")], "short", (16, 24, 8, 8)),  # noqa: E501
        _panel("Alertmanager pushes", [(f"sum by (alertmanager) (increase(padit_alertmanager_alerts_sent_total{{{SEL}}}[5m]))", "sent {{alertmanager}}"), (f"sum by (alertmanager) (increase(padit_alertmanager_errors_total{{{SEL}}}[5m]))", "errors {{alertmanager}}"), (f"sum by (alertmanager) (padit_alertmanager_pending{{{SEL}}})", "pending {{alertmanager}}")], "short", (0, 32, 8, 8)),  # noqa: E501
        _panel("Rebalances and recovery time", [(f"sum(increase(padit_rebalances_total{{{SEL}}}[1h]))", "rebalances / h"), (_quantile(0.99, "padit_state_recovery_seconds"), "recovery p99 (s)")], "short", (8, 32, 8, 8)),  # noqa: E501
        _panel("Stalled, memory", [(f"max(padit_stalled_seconds{{{SEL}}})", "stalled (s)"), (f"sum(process_resident_memory_bytes{{{SEL}}}) / 2^20", "RSS (MiB)")], "short", (16, 32, 8, 8)),  # noqa: E501
    ]  # fmt: skip
    return Dashboard(
        title="PADIT workers",
        uid="padit-workers",
        tags=["padit"],
        timezone="utc",
        templating=_templating(),
        panels=panels,
    ).auto_panel_ids()


def series_dashboard() -> Dashboard:
    sel = f'{SEL}, source_id=~"$source_id", metric_name=~"$metric_name"'
    extra = [
        Template(
            name=name,
            label=name,
            dataSource=DS,
            query=f"label_values(padit_series_anomaly_score, {name})",
            includeAll=True,
            multi=True,
            default="$__all",
        )
        for name in ("source_id", "metric_name")
    ]
    legend = "{{source_id}} {{metric_name}}"
    panels = [
        _panel("Value", [(f"padit_series_value{{{sel}}}", legend)], "short", (0, 0, 24, 8)),
        _panel("Anomaly score", [(f"padit_series_anomaly_score{{{sel}}}", legend)], "percentunit", (0, 8, 24, 8)),  # noqa: E501
        _panel("Alert state (0 inactive, 1 pending, 2 firing)", [(f"padit_series_alert_state{{{sel}}}", legend)], "short", (0, 16, 24, 8)),  # noqa: E501
        _panel("Series not exported (metrics.max_series reached)", [(f"sum(padit_series_export_dropped_total{{{SEL}}})", "dropped")], "short", (0, 24, 24, 6)),  # noqa: E501
    ]  # fmt: skip
    return Dashboard(
        title="PADIT series scores",
        uid="padit-series",
        tags=["padit"],
        timezone="utc",
        templating=_templating(extra),
        panels=panels,
    ).auto_panel_ids()


def render(dashboard: Dashboard) -> str:
    doc: Any = json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder))
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


DASHBOARDS = {"padit-workers.json": worker_dashboard, "padit-series.json": series_dashboard}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, build in DASHBOARDS.items():
        text = render(build())
        path = OUT / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print(f"out of date (run scripts/grafana_dashboards.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
