// Reading /api/v1/status for the overview: members, partitions, total consumer lag, and the
// input throughput derived from two polls' committed offsets (pure: unit-tested).

export interface StatusSummary {
  members: string[];
  partitions: number | null;
  lag: number | null;
  /** Committed offsets summed over the metrics topic's partitions (for the throughput). */
  committed: number | null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

interface LagRow {
  topic?: unknown;
  lag?: unknown;
  committed_offset?: unknown;
}

function lagRows(status: Record<string, unknown>): LagRow[] {
  const rows = status.consumer_lag ?? status.lag;
  return Array.isArray(rows) ? (rows as LagRow[]) : [];
}

/** Sum of the `lag` of every row; null when no row has a figure. */
export function totalLag(rows: LagRow[]): number | null {
  let sum: number | null = null;
  for (const r of rows) {
    const v = num(r?.lag);
    if (v !== null) sum = (sum ?? 0) + v;
  }
  return sum;
}

/** Committed offsets of the rows whose topic is the metrics input (`<prefix>.metrics.v<N>`). */
export function committedMetrics(rows: LagRow[]): number | null {
  let sum: number | null = null;
  for (const r of rows) {
    if (typeof r?.topic !== "string" || !/\.metrics\.v\d+$/.test(r.topic)) continue;
    const v = num(r.committed_offset);
    if (v !== null) sum = (sum ?? 0) + v;
  }
  return sum;
}

export function summariseStatus(status: Record<string, unknown> | undefined): StatusSummary {
  if (!status) return { members: [], partitions: null, lag: null, committed: null };
  const members = Array.isArray(status.members) ? status.members.map(String) : [];
  const config = status.config as { topics?: { partitions?: unknown } } | undefined;
  const rows = lagRows(status);
  return {
    members,
    partitions: num(config?.topics?.partitions),
    lag: totalLag(rows),
    committed: committedMetrics(rows),
  };
}

export interface Sample {
  /** Epoch seconds of the poll. */
  at: number;
  committed: number;
}

/** Records per second between two samples; null if there is no earlier one or offsets reset. */
export function throughput(prev: Sample | undefined, curr: Sample | undefined): number | null {
  if (!prev || !curr || curr.at <= prev.at || curr.committed < prev.committed) return null;
  return (curr.committed - prev.committed) / (curr.at - prev.at);
}
