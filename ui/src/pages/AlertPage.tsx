// One alert: labels, annotations, muting, the incident's timeline and notifications sent.

import { api } from "../api";
import { silenceHref } from "../components/AlertRow";
import { FeedbackSlot } from "../components/Feedback";
import { Empty, ErrorBox, Loading, SeverityBadge, Updated } from "../components/Status";
import { formatTime } from "../format";
import { href, usePoll } from "../hooks";

function Rows({ rows, empty }: { rows: Record<string, unknown>[]; empty: string }) {
  if (rows.length === 0) return <Empty>{empty}</Empty>;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return (
    <div className="scroll-x">
      <table className="table">
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {cols.map((c) => {
                const v = r[c];
                const text = typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v) ? formatTime(v) : typeof v === "object" ? JSON.stringify(v) : String(v ?? "");
                return <td key={c}>{text}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AlertPage({ id }: { id: string }) {
  const alert = usePoll(() => api.alert(id), [id]);
  const a = alert.data;
  return (
    <div className="page alert-page">
      <p className="crumbs">
        <a href="#/alerts">Alerts</a> / {id}
      </p>
      <h1>
        {a?.labels.alertname ?? "Alert"} <Updated at={alert.updatedAt} />
      </h1>
      <ErrorBox error={alert.error} title="Alert" />
      {alert.loading && !a ? (
        <Loading />
      ) : !a ? null : (
        <>
          <section className="card">
            <p>
              <span className={`badge status-${a.status}`}>{a.status}</span> <SeverityBadge severity={a.severity} />{" "}
              from {formatTime(a.starts_at)}
              {a.ends_at ? ` to ${formatTime(a.ends_at)}` : ""}
            </p>
            <dl className="kv">
              {Object.entries(a.labels).map(([k, v]) => (
                <div key={k} className="kv-row">
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
              {Object.entries(a.annotations ?? {}).map(([k, v]) => (
                <div key={`a-${k}`} className="kv-row">
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
            {a.silenced_by?.length > 0 && <p>Silenced by {a.silenced_by.join(", ")}.</p>}
            {a.inhibited_by?.length > 0 && <p>Inhibited by {a.inhibited_by.join(", ")}.</p>}
            <p className="actions">
              <a className="button" href={silenceHref(a.labels)}>
                Silence
              </a>
              {a.labels.source_id && a.labels.metric_name && (
                <a className="button secondary" href={href(["series", a.labels.source_id, a.labels.metric_name])}>
                  Chart
                </a>
              )}
            </p>
            <FeedbackSlot target={{ kind: "alert", alert: a }} />
          </section>
          <section className="card" aria-label="Timeline">
            <h2>Timeline</h2>
            <Rows rows={a.timeline ?? []} empty="No events recorded for this incident yet." />
          </section>
          <section className="card" aria-label="Notifications">
            <h2>Notifications</h2>
            <Rows
              rows={a.notifications ?? []}
              empty="No notification sent: the alert may be muted, still in its group wait, or no receiver is configured."
            />
          </section>
        </>
      )}
    </div>
  );
}
