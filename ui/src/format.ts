// Formatting and ordering helpers shared by the pages (pure: unit-tested in format.test.ts).

export type SeriesState = "ok" | "anomalous" | "alerting" | "stale";

const STATE_RANK: Record<string, number> = { ok: 0, stale: 1, anomalous: 2, alerting: 3 };
const SEVERITY_RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/** The worse of two series states: alerting > anomalous > stale > ok; unknown counts as ok. */
export function worseState(a: string, b: string): string {
  return (STATE_RANK[b] ?? 0) > (STATE_RANK[a] ?? 0) ? b : a;
}

export function stateRank(state: string): number {
  return STATE_RANK[state] ?? 0;
}

/** Severities in the order an operator reads them: critical first, unknown last. */
export function compareSeverity(a: string, b: string): number {
  const ra = SEVERITY_RANK[a] ?? 9;
  const rb = SEVERITY_RANK[b] ?? 9;
  return ra !== rb ? ra - rb : a.localeCompare(b);
}

/** RFC 3339 text to epoch seconds; null for a missing or unparsable time. */
export function toEpochSeconds(rfc3339: string | null | undefined): number | null {
  if (!rfc3339) return null;
  const ms = Date.parse(rfc3339);
  return Number.isFinite(ms) ? ms / 1000 : null;
}

/** Epoch seconds to RFC 3339 in UTC, second precision (what the API accepts). */
export function toRfc3339(epochSeconds: number): string {
  return new Date(Math.round(epochSeconds) * 1000).toISOString().replace(".000Z", "Z");
}

/** A time for a table cell: `2026-01-01 00:00:10 UTC`; an em dash when there is none. */
export function formatTime(rfc3339: string | null | undefined): string {
  const s = toEpochSeconds(rfc3339);
  if (s === null) return "—";
  return new Date(s * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** How long ago (or ahead) a time is, relative to `nowSeconds`: `45s ago`, `3m ago`, `in 2h`. */
export function formatRelative(rfc3339: string | null | undefined, nowSeconds: number): string {
  const s = toEpochSeconds(rfc3339);
  if (s === null) return "—";
  const d = nowSeconds - s;
  const text = formatDuration(Math.abs(d));
  return d >= 0 ? `${text} ago` : `in ${text}`;
}

/** A duration in the largest whole unit plus the next: `59s`, `3m 20s`, `2h 5m`, `3d 4h`. */
export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ""}`;
  if (s < 86400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)}h${m ? ` ${m}m` : ""}`;
  }
  const h = Math.floor((s % 86400) / 3600);
  return `${Math.floor(s / 86400)}d${h ? ` ${h}h` : ""}`;
}

/** A measurement with about 4 significant digits; an em dash for null/NaN. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(3);
  if (a >= 1000) return Math.round(v).toLocaleString("en-US");
  return String(Number(v.toPrecision(4)));
}

/** A score in [0, 1] with two decimals. */
export function formatScore(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  return v.toFixed(2);
}

/** `{a="1", b="2"}` in label-name order, as Alertmanager shows label sets. */
export function formatLabels(labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return `{${parts.join(", ")}}`;
}

/** A window feature's value; the window's bounds (epoch seconds) as times. */
export function featureText(name: string, value: number | null): string {
  if (value !== null && /(^|_)(start|end|ts|time)$/.test(name) && value > 1e8) {
    return formatTime(toRfc3339(value));
  }
  return formatValue(value);
}
