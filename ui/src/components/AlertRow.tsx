// One alert in a list: status, severity, labels that differ from its group, muting, actions.

import type { Alert, Labels } from "../api";
import { isMuted } from "../alertGroups";
import { formatRelative } from "../format";
import { href, useNow } from "../hooks";
import { formatMatcher, matchersFromLabels } from "../matchers";
import { FeedbackSlot } from "./Feedback";
import { SeverityBadge } from "./Status";

/** The silence form's address, prefilled with an equality matcher per alert label. */
export function silenceHref(labels: Labels): string {
  const q = new URLSearchParams();
  for (const m of matchersFromLabels(labels)) q.append("matcher", formatMatcher(m));
  return `#/silences/new?${q.toString()}`;
}

export function AlertRow({ alert, common }: { alert: Alert; common: Labels }) {
  const now = useNow();
  const own = Object.entries(alert.labels).filter(([k]) => !(k in common) && k !== "severity");
  const muted = isMuted(alert);
  return (
    <li
      className={`alert-row ${muted ? "muted" : ""}`}
      data-alert-id={alert.id}
      data-source={alert.labels.source_id ?? ""}
      data-status={alert.status}
      data-muted={muted ? "true" : "false"}
    >
      <span className={`badge status-${alert.status}`}>{alert.status}</span>
      <SeverityBadge severity={alert.severity} />
      {alert.silenced_by?.length > 0 && (
        <a className="badge muted-badge" href={`#/silences?id=${encodeURIComponent(alert.silenced_by[0])}`}>
          silenced
        </a>
      )}
      {alert.inhibited_by?.length > 0 && <span className="badge muted-badge">inhibited</span>}
      <a className="alert-title" href={href(["alerts", alert.id])}>
        {alert.labels.alertname ?? alert.id}
      </a>
      <span className="labels">
        {own.map(([k, v]) => (
          <code key={k}>
            {k}={v}
          </code>
        ))}
      </span>
      <span className="since" title={alert.starts_at}>
        {alert.status === "resolved" && alert.ends_at
          ? `resolved ${formatRelative(alert.ends_at, now)}`
          : `since ${formatRelative(alert.starts_at, now)}`}
      </span>
      {alert.labels.source_id && alert.labels.metric_name && (
        <a className="small-link" href={href(["series", alert.labels.source_id, alert.labels.metric_name])}>
          chart
        </a>
      )}
      <a className="button small" href={silenceHref(alert.labels)}>
        Silence
      </a>
      <FeedbackSlot target={{ kind: "alert", alert }} />
    </li>
  );
}
