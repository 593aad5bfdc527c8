// One series: history chart with the score beneath, alert intervals, anomalies, the current
// window features and the detector's explanation.

import { api, type SeriesDetail } from "../api";
import { anomalyMarks } from "../chartData";
import { FeedbackSlot } from "../components/Feedback";
import { HistoryChart } from "../components/HistoryChart";
import { Empty, ErrorBox, Loading, SeverityBadge, Updated } from "../components/Status";
import { featureText, formatScore, formatTime, formatValue } from "../format";
import { href, usePoll } from "../hooks";

const DEFAULT_THRESHOLD = 0.5;

/** The anomaly threshold: the explanation's, else the status config's, else the default. */
export function thresholdOf(detail: SeriesDetail | undefined, status: Record<string, unknown> | undefined): number {
  const fromExplanation = (detail?.explanation as { threshold?: unknown } | null)?.threshold;
  if (typeof fromExplanation === "number") return fromExplanation;
  const config = status?.config as { detection?: { anomaly_threshold?: unknown } } | undefined;
  const fromConfig = config?.detection?.anomaly_threshold;
  return typeof fromConfig === "number" ? fromConfig : DEFAULT_THRESHOLD;
}

function ValueText({ value }: { value: unknown }) {
  if (typeof value === "number") return <>{formatValue(value)}</>;
  if (typeof value === "string") return <>{/^\d{4}-\d\d-\d\dT/.test(value) ? formatTime(value) : value}</>;
  if (value === null || value === undefined) return <>—</>;
  if (typeof value === "object" && !Array.isArray(value)) return <KeyValues doc={value as Record<string, unknown>} />;
  return <code>{JSON.stringify(value)}</code>;
}

function KeyValues({ doc }: { doc: Record<string, unknown> }) {
  return (
    <dl className="kv">
      {Object.entries(doc).map(([k, v]) => (
        <div key={k} className="kv-row">
          <dt>{k}</dt>
          <dd>
            <ValueText value={v} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Explanation({ value }: { value: unknown }) {
  const doc = value as { score?: unknown; evidence?: unknown } | null;
  if (value === null || value === undefined || value === "" || (typeof doc === "object" && doc?.score == null)) {
    return <Empty>The detector has not scored this series yet; its explanation appears after the first evaluation.</Empty>;
  }
  if (typeof value === "string") return <p className="explanation">{value}</p>;
  return (
    <div className="explanation">
      <ValueText value={value} />
    </div>
  );
}

export function SeriesPage({ source, metric }: { source: string; metric: string }) {
  const detail = usePoll(() => api.seriesDetail(source, metric), [source, metric]);
  const status = usePoll(() => api.status(), [], 30000);
  const d = detail.data;
  const threshold = thresholdOf(d, status.data);
  const marks = d ? anomalyMarks(d.history, threshold) : [];
  const unit = metric;

  return (
    <div className="page series-page">
      <p className="crumbs">
        <a href="#/series">Series</a> / <a href={href(["series"], { q: source })}>{source}</a> / {metric}
      </p>
      <h1>
        {source} · {metric} <Updated at={detail.updatedAt} />
      </h1>
      <ErrorBox error={detail.error} title="Series" />
      {detail.loading && !d ? (
        <Loading />
      ) : !d ? null : (
        <>
          <section className="card" aria-label="History">
            <h2>History</h2>
            {d.history.length === 0 ? (
              <Empty>No history yet: the chart fills in as the worker closes its per-minute buckets.</Empty>
            ) : null}
            <HistoryChart history={d.history} intervals={d.alert_intervals} threshold={threshold} unit={unit} />
            <p className="legend-note">
              Shaded: alert intervals (red critical, yellow warning). Dots: anomalies (score above {formatScore(threshold)}).
            </p>
          </section>
          <div className="cards">
            <section className="card" aria-label="Anomalies">
              <h2>Anomalies</h2>
              {marks.length === 0 ? (
                <Empty>No anomaly in this history.</Empty>
              ) : (
                <ul className="anomalies">
                  {marks
                    .slice(-20)
                    .reverse()
                    .map((m) => (
                      <li key={m.t} data-time={m.time}>
                        {formatTime(m.time)}: score {formatScore(m.score)}, max {formatValue(m.value)}
                      </li>
                    ))}
                </ul>
              )}
              <h2 className="spaced">Alert intervals</h2>
              {d.alert_intervals.length === 0 ? (
                <Empty>No alert in this history.</Empty>
              ) : (
                <ul className="intervals">
                  {d.alert_intervals.map((iv) => (
                    <li key={iv.alert_id + iv.starts_at}>
                      <SeverityBadge severity={iv.severity} />{" "}
                      <a href={href(["alerts", iv.alert_id])}>
                        {formatTime(iv.starts_at)} → {iv.ends_at ? formatTime(iv.ends_at) : "now"}
                      </a>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section className="card" aria-label="Window features">
              <h2>Window</h2>
              {d.window && <KeyValues doc={d.window} />}
              <h2 className="spaced">Features</h2>
              {d.features ? (
                <dl className="kv features">
                  {Object.entries(d.features).map(([k, v]) => (
                    <div key={k} className="kv-row">
                      <dt>{k}</dt>
                      <dd>{featureText(k, v)}</dd>
                    </div>
                  ))}
                </dl>
              ) : (
                <Empty>The window has no features yet (it needs a few samples).</Empty>
              )}
            </section>
            <section className="card" aria-label="Detector explanation">
              <h2>Detector explanation</h2>
              <Explanation value={d.explanation} />
            </section>
          </div>
          <FeedbackSlot target={{ kind: "series", series: d }} />
        </>
      )}
    </div>
  );
}
