// The series page's chart data: history points to uPlot's columns, anomaly marks and the
// alert intervals to shade (pure: unit-tested in chartData.test.ts).

import type { AlertInterval, HistoryPoint } from "./api";
import { toEpochSeconds } from "./format";

export interface ChartColumns {
  /** Epoch seconds, ascending. */
  x: number[];
  min: (number | null)[];
  mean: (number | null)[];
  max: (number | null)[];
  score: (number | null)[];
}

export function historyColumns(history: HistoryPoint[]): ChartColumns {
  const rows = history
    .map((p) => ({ t: toEpochSeconds(p.time), p }))
    .filter((r): r is { t: number; p: HistoryPoint } => r.t !== null)
    .sort((a, b) => a.t - b.t);
  return {
    x: rows.map((r) => r.t),
    min: rows.map((r) => r.p.min),
    mean: rows.map((r) => r.p.mean),
    max: rows.map((r) => r.p.max),
    score: rows.map((r) => r.p.score_max),
  };
}

export interface AnomalyMark {
  /** Epoch seconds of the history bucket. */
  t: number;
  time: string;
  score: number;
  /** The bucket's max value: where the mark sits on the value chart. */
  value: number | null;
}

/** Buckets whose max score is above the detector's anomaly threshold (as the worker decides). */
export function anomalyMarks(history: HistoryPoint[], threshold: number): AnomalyMark[] {
  const marks: AnomalyMark[] = [];
  for (const p of history) {
    const t = toEpochSeconds(p.time);
    if (t === null || p.score_max === null || !(p.score_max > threshold)) continue;
    marks.push({ t, time: p.time, score: p.score_max, value: p.max });
  }
  return marks.sort((a, b) => a.t - b.t);
}

export interface Band {
  from: number;
  to: number;
  severity: string;
  alert_id: string;
}

/** Alert intervals as [from, to] in epoch seconds; an open interval runs to `openEnd`. */
export function alertBands(intervals: AlertInterval[], openEnd: number): Band[] {
  const bands: Band[] = [];
  for (const iv of intervals) {
    const from = toEpochSeconds(iv.starts_at);
    if (from === null) continue;
    const to = toEpochSeconds(iv.ends_at) ?? openEnd;
    bands.push({ from, to: Math.max(from, to), severity: iv.severity, alert_id: iv.alert_id });
  }
  return bands;
}
