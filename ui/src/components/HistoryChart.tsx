// The series history: min/mean/max of the value on top, the max anomaly score beneath, both
// on one time axis with a shared cursor (hover shows the values of both in their legends).
// Alert intervals are shaded on both; anomalies are marked on the value chart with DOM
// markers (so they can be hovered, read by a screen reader and found by the browser tests).

import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { AlertInterval, HistoryPoint } from "../api";
import { alertBands, anomalyMarks, historyColumns, type AnomalyMark, type Band } from "../chartData";
import { formatScore, formatTime, formatValue, toRfc3339 } from "../format";

const SEV_FILL: Record<string, string> = {
  critical: "rgba(220, 38, 38, 0.16)",
  warning: "rgba(234, 179, 8, 0.20)",
};

function shadeBands(drawn: { current: Drawn }): uPlot.Plugin {
  return {
    hooks: {
      drawClear: (u: uPlot) => {
        const { ctx } = u;
        const { top, height } = u.bbox;
        ctx.save();
        for (const b of drawn.current.bands) {
          const x0 = u.valToPos(b.from, "x", true);
          const x1 = u.valToPos(b.to, "x", true);
          const left = Math.max(u.bbox.left, Math.min(x0, x1));
          const right = Math.min(u.bbox.left + u.bbox.width, Math.max(x0, x1));
          if (right <= left) continue;
          ctx.fillStyle = SEV_FILL[b.severity] ?? "rgba(120, 120, 120, 0.18)";
          // At least 2 device pixels so an interval inside one bucket stays visible.
          ctx.fillRect(left, top, Math.max(right - left, 2 * devicePixelRatio), height);
        }
        ctx.restore();
      },
    },
  };
}

// Axis ticks in UTC, like every other time the console shows.
const utc = (ts: number) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");

interface Drawn {
  bands: Band[];
  marks: AnomalyMark[];
}

export function HistoryChart({
  history,
  intervals,
  threshold,
  unit,
}: {
  history: HistoryPoint[];
  intervals: AlertInterval[];
  threshold: number;
  unit: string;
}) {
  const valueEl = useRef<HTMLDivElement>(null);
  const scoreEl = useRef<HTMLDivElement>(null);
  const plots = useRef<{ value: uPlot; score: uPlot } | null>(null);
  // What the draw hooks read: polls replace it and call setData instead of rebuilding the
  // charts, so the cursor and the legend's hover values survive a live update.
  const drawn = useRef<Drawn>({ bands: [], marks: [] });

  useEffect(() => {
    const vEl = valueEl.current;
    const sEl = scoreEl.current;
    if (!vEl || !sEl) return;
    const width = () => Math.max(280, vEl.clientWidth);
    const sync = uPlot.sync("padit-history");
    const cursor: uPlot.Cursor = { sync: { key: sync.key, setSeries: false } };
    const timeFmt = (_u: uPlot, v: number | null) => (v == null ? "—" : formatTime(toRfc3339(v)));
    const empty = [[], [], [], []] as uPlot.AlignedData;

    const markLayer = (u: uPlot) => {
      u.over.querySelectorAll(".anomaly-mark").forEach((n) => n.remove());
      for (const m of drawn.current.marks) {
        const x = u.valToPos(m.t, "x");
        if (!Number.isFinite(x) || x < 0 || x > u.over.clientWidth) continue;
        const y = m.value === null ? 0 : u.valToPos(m.value, "y");
        const dot = document.createElement("div");
        dot.className = "anomaly-mark";
        dot.dataset.time = m.time;
        dot.dataset.score = String(m.score);
        dot.title = `anomaly at ${formatTime(m.time)}: score ${formatScore(m.score)}, max ${formatValue(m.value)}`;
        dot.style.left = `${x}px`;
        dot.style.top = `${Math.max(0, y)}px`;
        u.over.appendChild(dot);
      }
    };

    const value = new uPlot(
      {
        width: width(),
        height: 260,
        cursor,
        tzDate: utc,
        scales: { x: { time: true } },
        axes: [{}, { label: unit, size: 60 }],
        series: [
          { value: timeFmt },
          { label: "max", stroke: "#f97316", width: 1, value: (_u, v) => formatValue(v) },
          { label: "mean", stroke: "#2563eb", width: 2, value: (_u, v) => formatValue(v) },
          { label: "min", stroke: "#16a34a", width: 1, value: (_u, v) => formatValue(v) },
        ],
        plugins: [shadeBands(drawn)],
        hooks: { draw: [markLayer] },
      },
      empty,
      vEl,
    );
    const score = new uPlot(
      {
        width: width(),
        height: 140,
        cursor,
        tzDate: utc,
        scales: { x: { time: true }, y: { range: [0, 1] } },
        axes: [{}, { label: "score", size: 60 }],
        series: [
          { value: timeFmt },
          {
            label: "anomaly score (max)",
            stroke: "#dc2626",
            width: 2,
            fill: "rgba(220,38,38,0.08)",
            value: (_u, v) => formatScore(v),
          },
          { label: "threshold", stroke: "#6b7280", dash: [4, 4], width: 1, value: (_u, v) => formatScore(v) },
        ],
        plugins: [shadeBands(drawn)],
      },
      [[], [], []] as uPlot.AlignedData,
      sEl,
    );
    plots.current = { value, score };
    const ro = new ResizeObserver(() => {
      value.setSize({ width: width(), height: 260 });
      score.setSize({ width: width(), height: 140 });
    });
    ro.observe(vEl);
    return () => {
      ro.disconnect();
      value.destroy();
      score.destroy();
      plots.current = null;
    };
  }, [unit]);

  useEffect(() => {
    const p = plots.current;
    if (!p) return;
    const cols = historyColumns(history);
    const lastX = cols.x.length ? cols.x[cols.x.length - 1] : Date.now() / 1000;
    // An open interval is shaded to the end of its last bucket.
    drawn.current = { bands: alertBands(intervals, lastX + 60), marks: anomalyMarks(history, threshold) };
    p.value.setData([cols.x, cols.max, cols.mean, cols.min] as uPlot.AlignedData);
    p.score.setData([cols.x, cols.score, cols.x.map(() => threshold)] as uPlot.AlignedData);
  }, [history, intervals, threshold]);

  return (
    <div className="chart">
      <div ref={valueEl} className="chart-value" data-testid="value-chart" />
      <div ref={scoreEl} className="chart-score" data-testid="score-chart" />
    </div>
  );
}
