// Alerts: firing, pending and resolved, grouped as the receivers group them.

import { useState } from "react";
import { api } from "../api";
import { groupAlerts, isMuted } from "../alertGroups";
import { AlertRow } from "../components/AlertRow";
import { Empty, ErrorBox, Loading, Updated } from "../components/Status";
import { formatLabels } from "../format";
import { usePoll, useRoute } from "../hooks";

export function AlertsPage() {
  const { params } = useRoute();
  const [status, setStatus] = useState(params.get("status") ?? "");
  const [severity, setSeverity] = useState(params.get("severity") ?? "");
  const [showMuted, setShowMuted] = useState(true);
  const alerts = usePoll(
    () => api.alerts({ status: status || undefined, severity: severity || undefined }),
    [status, severity],
  );
  const items = (alerts.data?.items ?? []).filter((a) => showMuted || !isMuted(a));
  const groups = groupAlerts(items);

  return (
    <div className="page alerts">
      <h1>
        Alerts <Updated at={alerts.updatedAt} />
      </h1>
      <div className="filters">
        <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="status">
          <option value="">firing, pending and resolved</option>
          <option value="firing">firing</option>
          <option value="pending">pending</option>
          <option value="resolved">resolved</option>
        </select>
        <select value={severity} onChange={(e) => setSeverity(e.target.value)} aria-label="severity">
          <option value="">all severities</option>
          <option value="critical">critical</option>
          <option value="warning">warning</option>
        </select>
        <label className="check">
          <input type="checkbox" checked={showMuted} onChange={(e) => setShowMuted(e.target.checked)} /> show
          silenced and inhibited
        </label>
        <span className="count">{items.length} alerts</span>
      </div>
      <ErrorBox error={alerts.error} title="Alerts" />
      {alerts.loading && !alerts.data ? (
        <Loading />
      ) : groups.length === 0 ? (
        <Empty>
          {status || severity || !showMuted
            ? "No alert matches these filters. Widen them to see more."
            : "No alerts. An alert fires when a series' anomaly score stays above the fire threshold; the Series page shows the scores."}
        </Empty>
      ) : (
        groups.map((g) => (
          <section key={g.key} className="card group" data-group-key={g.key}>
            <h2 className="group-head">
              <code>{formatLabels(g.common)}</code>
              {g.receivers.length > 0 && <span className="receivers">→ {g.receivers.join(", ")}</span>}
            </h2>
            <ul className="alert-list">
              {g.alerts.map((a) => (
                <AlertRow key={a.id} alert={a} common={g.common} />
              ))}
            </ul>
          </section>
        ))
      )}
    </div>
  );
}
