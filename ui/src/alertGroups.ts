// Alerts grouped as the receivers group them (by group_key), with each group's common labels.

import type { Alert, Labels } from "./api";
import { compareSeverity } from "./format";

export interface AlertGroup {
  key: string;
  receivers: string[];
  common: Labels;
  alerts: Alert[];
}

const STATUS_RANK: Record<string, number> = { firing: 0, pending: 1, resolved: 2 };

/** Whether the alert is muted by a silence or an inhibition. */
export function isMuted(a: Alert): boolean {
  return (a.silenced_by?.length ?? 0) > 0 || (a.inhibited_by?.length ?? 0) > 0;
}

export function commonLabels(alerts: Alert[]): Labels {
  if (alerts.length === 0) return {};
  const [first, ...rest] = alerts;
  const out: Labels = {};
  for (const [k, v] of Object.entries(first.labels)) {
    if (rest.every((a) => a.labels[k] === v)) out[k] = v;
  }
  return out;
}

function compareAlerts(a: Alert, b: Alert): number {
  return (
    (STATUS_RANK[a.status] ?? 9) - (STATUS_RANK[b.status] ?? 9) ||
    compareSeverity(a.severity, b.severity) ||
    Date.parse(b.starts_at) - Date.parse(a.starts_at) ||
    a.id.localeCompare(b.id)
  );
}

/** Groups in a stable order: groups with firing, then most severe, then by key. */
export function groupAlerts(alerts: Alert[]): AlertGroup[] {
  const by = new Map<string, Alert[]>();
  for (const a of alerts) {
    const key = a.group_key || "(ungrouped)";
    const list = by.get(key);
    if (list) list.push(a);
    else by.set(key, [a]);
  }
  const groups = [...by.entries()].map(([key, list]) => {
    const sorted = [...list].sort(compareAlerts);
    return {
      key,
      receivers: [...new Set(sorted.flatMap((a) => a.receivers ?? []))].sort(),
      common: commonLabels(sorted),
      alerts: sorted,
    };
  });
  return groups.sort((g, h) => compareAlerts(g.alerts[0], h.alerts[0]) || g.key.localeCompare(h.key));
}
