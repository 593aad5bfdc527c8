// Filtering, sorting and summarising series for the list and overview pages (pure).

import type { SeriesItem } from "./api";
import { stateRank, worseState } from "./format";

export type SortKey = "source_id" | "metric_name" | "state" | "last_value" | "last_score" | "last_time";

export interface SeriesFilter {
  /** Words that must all appear in the source, metric or a label value (case-insensitive). */
  text: string;
  /** One state, or "" for all. */
  state: string;
}

export function filterSeries(items: SeriesItem[], f: SeriesFilter): SeriesItem[] {
  const words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
  return items.filter((it) => {
    if (f.state && it.state !== f.state) return false;
    if (words.length === 0) return true;
    const hay = [it.source_id, it.metric_name, it.detector ?? "", ...Object.entries(it.labels ?? {}).map(([k, v]) => `${k}=${v}`)]
      .join(" ")
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

function sortValue(it: SeriesItem, key: SortKey): string | number {
  switch (key) {
    case "state":
      return stateRank(it.state);
    case "last_value":
      return it.last_value ?? -Infinity;
    case "last_score":
      return it.last_score ?? -Infinity;
    case "last_time":
      return it.last_time ? Date.parse(it.last_time) : -Infinity;
    default:
      return it[key];
  }
}

/** A stable sort; ties fall back to source then metric so rows do not jump between polls. */
export function sortSeries(items: SeriesItem[], key: SortKey, descending: boolean): SeriesItem[] {
  const dir = descending ? -1 : 1;
  return [...items].sort((a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    if (va < vb) return -dir;
    if (va > vb) return dir;
    return a.source_id.localeCompare(b.source_id) || a.metric_name.localeCompare(b.metric_name);
  });
}

export interface SourceSummary {
  source_id: string;
  worst: string;
  series: number;
  counts: Record<string, number>;
}

/** Each source with its worst series state, worst first, then by name. */
export function summariseSources(items: SeriesItem[]): SourceSummary[] {
  const by = new Map<string, SourceSummary>();
  for (const it of items) {
    let s = by.get(it.source_id);
    if (!s) {
      s = { source_id: it.source_id, worst: "ok", series: 0, counts: {} };
      by.set(it.source_id, s);
    }
    s.series += 1;
    s.worst = worseState(s.worst, it.state);
    s.counts[it.state] = (s.counts[it.state] ?? 0) + 1;
  }
  return [...by.values()].sort(
    (a, b) => stateRank(b.worst) - stateRank(a.worst) || a.source_id.localeCompare(b.source_id),
  );
}

/** Which rows of a fixed-height list are in view, with `overscan` extra rows either side. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 8,
): { start: number; end: number } {
  const first = Math.floor(scrollTop / rowHeight);
  const inView = Math.ceil(viewportHeight / rowHeight);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + inView + overscan);
  return { start, end: Math.max(start, end) };
}
