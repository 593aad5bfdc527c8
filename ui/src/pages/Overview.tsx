// Overview: firing alerts by severity, each source's worst state, cluster throughput and lag.

import { useEffect, useRef, useState } from "react";
import { allSeries, api } from "../api";
import { Empty, ErrorBox, Loading, SeverityBadge, StateBadge, Updated } from "../components/Status";
import { compareSeverity, formatValue } from "../format";
import { href, usePoll } from "../hooks";
import { summariseSources } from "../seriesList";
import { summariseStatus, throughput, type Sample } from "../statusInfo";

// The worst sources first; the series list (virtualized) holds the rest.
const SHOWN_SOURCES = 50;

export function Overview() {
  const alerts = usePoll(() => api.alerts({ status: "firing" }), []);
  const series = usePoll(() => allSeries(), []);
  const status = usePoll(() => api.status(), []);

  const bySeverity = new Map<string, number>();
  for (const a of alerts.data?.items ?? []) {
    if (a.status !== "firing") continue;
    bySeverity.set(a.severity, (bySeverity.get(a.severity) ?? 0) + 1);
  }
  const severities = [...bySeverity.keys()].sort(compareSeverity);
  const sources = summariseSources(series.data ?? []);
  const st = summariseStatus(status.data);
  // Throughput is the growth of the metrics topic's committed offsets between two polls.
  const last = useRef<Sample>();
  const [rate, setRate] = useState<number | null>(null);
  useEffect(() => {
    if (st.committed === null || !status.updatedAt) return;
    const curr = { at: status.updatedAt / 1000, committed: st.committed };
    setRate(throughput(last.current, curr));
    last.current = curr;
  }, [status.updatedAt, st.committed]);

  return (
    <div className="page overview">
      <h1>
        Overview <Updated at={series.updatedAt} />
      </h1>
      <div className="cards">
        <section className="card" aria-label="Firing alerts">
          <h2>Firing alerts</h2>
          <ErrorBox error={alerts.error} title="Alerts" />
          {alerts.loading && !alerts.data ? (
            <Loading />
          ) : severities.length === 0 ? (
            <Empty>No alert is firing. Alerts appear here when a detector's score stays above the fire threshold.</Empty>
          ) : (
            <ul className="severity-counts">
              {severities.map((s) => (
                <li key={s}>
                  <a href={href(["alerts"], { status: "firing", severity: s })}>
                    <SeverityBadge severity={s} /> <strong className="count">{bySeverity.get(s)}</strong>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card" aria-label="Cluster">
          <h2>Cluster</h2>
          <ErrorBox error={status.error} title="Status" />
          <dl className="kv">
            <dt>Workers</dt>
            <dd>{st.members.length || "—"}</dd>
            <dt>Partitions</dt>
            <dd>{st.partitions ?? "—"}</dd>
            <dt>Consumer lag</dt>
            <dd data-testid="lag">{st.lag === null ? "—" : `${formatValue(st.lag)} records`}</dd>
            <dt>Throughput</dt>
            <dd data-testid="throughput">
              {rate === null ? "measuring…" : `${formatValue(rate)} records/s`}
            </dd>
          </dl>
        </section>
      </div>
      <section className="card" aria-label="Sources">
        <h2>Sources</h2>
        <ErrorBox error={series.error} title="Series" />
        {series.loading && !series.data ? (
          <Loading />
        ) : sources.length === 0 ? (
          <Empty>
            No source has sent metrics yet. Start an adapter or the demo producer (<code>make run</code>) and
            sources appear here within a minute.
          </Empty>
        ) : (
          <table className="table sources">
            <thead>
              <tr>
                <th>Source</th>
                <th>Worst state</th>
                <th>Series</th>
              </tr>
            </thead>
            <tbody>
              {sources.slice(0, SHOWN_SOURCES).map((s) => (
                <tr key={s.source_id} data-source={s.source_id}>
                  <td>
                    <a href={href(["series"], { q: s.source_id })}>{s.source_id}</a>
                  </td>
                  <td>
                    <StateBadge state={s.worst} />
                  </td>
                  <td>{s.series}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {sources.length > SHOWN_SOURCES && (
          <p className="hint">
            The {SHOWN_SOURCES} worst of {sources.length} sources. <a href="#/series">All series</a> lists every one,
            with search and filters.
          </p>
        )}
      </section>
    </div>
  );
}
