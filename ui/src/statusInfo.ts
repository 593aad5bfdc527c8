// Reading /api/v1/status for the overview: members, total lag and throughput, whatever
// nesting the worker uses for per-partition figures (pure: unit-tested).

export interface StatusSummary {
  members: string[];
  partitions: number;
  lag: number | null;
  throughput: number | null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Sum of every `lag` figure: a number, a list of `{lag}` rows, or a map of either. */
export function totalLag(lag: unknown): number | null {
  const direct = num(lag);
  if (direct !== null) return direct;
  const rows = Array.isArray(lag) ? lag : lag && typeof lag === "object" ? Object.values(lag) : [];
  let sum: number | null = null;
  for (const r of rows) {
    // A row names its figure `lag`; an object without one is a further level of the map.
    const v = num(r) ?? (r && typeof r === "object" ? totalLag("lag" in r ? (r as { lag: unknown }).lag : r) : null);
    if (v !== null) sum = (sum ?? 0) + v;
  }
  return sum;
}

export function summariseStatus(status: Record<string, unknown> | undefined): StatusSummary {
  if (!status) return { members: [], partitions: 0, lag: null, throughput: null };
  const rawMembers = status.members;
  const members = Array.isArray(rawMembers)
    ? rawMembers.map((m) => (typeof m === "string" ? m : String((m as { url?: string; id?: string })?.url ?? (m as { id?: string })?.id ?? JSON.stringify(m))))
    : [];
  const parts = status.partitions;
  const partitions = Array.isArray(parts) ? parts.length : parts && typeof parts === "object" ? Object.keys(parts).length : 0;
  const throughput = num(status.throughput) ?? num((status.throughput as { records_per_sec?: unknown })?.records_per_sec);
  return { members, partitions, lag: totalLag(status.lag), throughput };
}
