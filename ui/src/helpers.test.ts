import { describe, expect, it } from "vitest";
import type { Alert, SeriesItem } from "./api";
import { errorFromBody } from "./api";
import { groupAlerts } from "./alertGroups";
import { alertBands, anomalyMarks, historyColumns } from "./chartData";
import { parseHash, href } from "./hooks";
import { filterSeries, sortSeries, summariseSources, visibleRange } from "./seriesList";
import { summariseStatus, throughput, totalLag } from "./statusInfo";

function series(source_id: string, metric_name: string, state: string, last_score: number | null): SeriesItem {
  return { source_id, metric_name, labels: { site: source_id.startsWith("du") ? "ran" : "core" }, last_value: 1, last_time: null, last_score, state, detector: "threshold", alert_state: null };
}

describe("series list", () => {
  const items = [
    series("du-1", "latency_ms", "ok", 0.1),
    series("du-2", "latency_ms", "alerting", 0.9),
    series("web-1", "rtt_ms", "stale", null),
    series("du-2", "rtt_ms", "anomalous", 0.6),
  ];

  it("filters by words in source, metric and labels, and by state", () => {
    expect(filterSeries(items, { text: "du rtt", state: "" }).map((s) => s.source_id)).toEqual(["du-2"]);
    expect(filterSeries(items, { text: "site=core", state: "" }).map((s) => s.source_id)).toEqual(["web-1"]);
    expect(filterSeries(items, { text: "", state: "alerting" })).toHaveLength(1);
  });

  it("sorts by state severity and by score with missing scores last", () => {
    expect(sortSeries(items, "state", true).map((s) => s.state)).toEqual(["alerting", "anomalous", "stale", "ok"]);
    expect(sortSeries(items, "last_score", true).map((s) => s.last_score)).toEqual([0.9, 0.6, 0.1, null]);
  });

  it("gives each source its worst state, worst first", () => {
    const s = summariseSources(items);
    expect(s.map((x) => [x.source_id, x.worst, x.series])).toEqual([
      ["du-2", "alerting", 2],
      ["web-1", "stale", 1],
      ["du-1", "ok", 1],
    ]);
  });

  it("renders only the rows in view (plus overscan) of a long list", () => {
    expect(visibleRange(0, 360, 36, 10000, 5)).toEqual({ start: 0, end: 15 });
    expect(visibleRange(36000, 360, 36, 10000, 5)).toEqual({ start: 995, end: 1015 });
    expect(visibleRange(360000, 360, 36, 10000, 5)).toEqual({ start: 9995, end: 10000 });
  });
});

describe("chart data", () => {
  const history = [
    { time: "2026-01-01T00:02:00Z", min: 40, mean: 60, max: 90, score_max: 0.95 },
    { time: "2026-01-01T00:00:00Z", min: 4, mean: 5, max: 6, score_max: 0.1 },
    { time: "2026-01-01T00:01:00Z", min: 5, mean: 5, max: 7, score_max: 0.5 },
  ];

  it("orders buckets by time", () => {
    const c = historyColumns(history);
    expect(c.x).toEqual([1767225600, 1767225660, 1767225720]);
    expect(c.mean).toEqual([5, 5, 60]);
    expect(c.score).toEqual([0.1, 0.5, 0.95]);
  });

  it("marks buckets strictly above the threshold, as the worker decides an anomaly", () => {
    expect(anomalyMarks(history, 0.5).map((m) => m.t)).toEqual([1767225720]);
  });

  it("runs an open alert interval to the given end", () => {
    const bands = alertBands(
      [
        { alert_id: "a", starts_at: "2026-01-01T00:02:00Z", ends_at: null, severity: "critical" },
        { alert_id: "b", starts_at: "2026-01-01T00:00:30Z", ends_at: "2026-01-01T00:01:00Z", severity: "warning" },
      ],
      1767225780,
    );
    expect(bands.map((b) => [b.from, b.to])).toEqual([
      [1767225720, 1767225780],
      [1767225630, 1767225660],
    ]);
  });
});

describe("alert groups", () => {
  const alert = (id: string, group_key: string, status: string, severity: string, source: string): Alert => ({
    id, group_key, status, severity, labels: { alertname: "PaditAnomaly", source_id: source, severity },
    annotations: {}, starts_at: "2026-01-01T00:00:00Z", ends_at: null, silenced_by: [], inhibited_by: [], receivers: ["default"],
  });

  it("groups by group key, firing groups first, with the labels the group shares", () => {
    const groups = groupAlerts([
      alert("1", "g-a", "resolved", "warning", "du-1"),
      alert("2", "g-b", "firing", "warning", "du-2"),
      alert("3", "g-b", "firing", "critical", "du-2"),
    ]);
    expect(groups.map((g) => g.key)).toEqual(["g-b", "g-a"]);
    expect(groups[0].alerts.map((a) => a.id)).toEqual(["3", "2"]);
    expect(groups[0].common).toEqual({ alertname: "PaditAnomaly", source_id: "du-2" });
  });
});

describe("routing and errors", () => {
  it("round-trips names with slashes and spaces through the hash", () => {
    const h = href(["series", "du/1 a", "latency_ms"], { q: "x y" });
    const r = parseHash(h);
    expect(r.parts).toEqual(["series", "du/1 a", "latency_ms"]);
    expect(r.params.get("q")).toBe("x y");
  });

  it("reads the API's error shape with its fields", () => {
    const e = errorFromBody(400, { error: { code: "invalid", message: "bad silence", fields: [{ field: "ends_at", message: "before starts_at" }] } }, "400");
    expect([e.code, e.message, e.fields[0].field, e.isAuth]).toEqual(["invalid", "bad silence", "ends_at", false]);
    expect(errorFromBody(403, null, "403 Forbidden").isAuth).toBe(true);
  });

  it("sums the lag rows and derives throughput from the metrics topic's committed offsets", () => {
    const status = {
      members: ["http://127.0.0.1:1", "http://127.0.0.1:2"],
      config: { topics: { partitions: 4 } },
      consumer_lag: [
        { topic: "padit.metrics.v1", partition: 0, lag: 3, committed_offset: 100 },
        { topic: "padit.metrics.v1", partition: 1, lag: null, committed_offset: 50 },
        { topic: "padit.features.v1", partition: 0, lag: 4, committed_offset: 9000 },
      ],
    };
    const s = summariseStatus(status);
    expect([s.members.length, s.partitions, s.lag, s.committed]).toEqual([2, 4, 7, 150]);
    expect(totalLag([])).toBeNull();
    expect(throughput({ at: 10, committed: 150 }, { at: 15, committed: 400 })).toBe(50);
    expect(throughput(undefined, { at: 15, committed: 400 })).toBeNull();
    // A restarted consumer group starts over: no negative rate.
    expect(throughput({ at: 10, committed: 400 }, { at: 15, committed: 0 })).toBeNull();
  });
});
