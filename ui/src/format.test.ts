import { describe, expect, it } from "vitest";
import {
  compareSeverity,
  featureText,
  formatDuration,
  formatLabels,
  formatRelative,
  formatScore,
  formatTime,
  formatValue,
  toEpochSeconds,
  toRfc3339,
  worseState,
} from "./format";

describe("times", () => {
  it("converts RFC 3339 both ways in UTC", () => {
    expect(toEpochSeconds("2026-01-01T00:00:10Z")).toBe(1767225610);
    expect(toEpochSeconds("2026-01-01T01:00:10+01:00")).toBe(1767225610);
    expect(toRfc3339(1767225610)).toBe("2026-01-01T00:00:10Z");
    expect(toEpochSeconds("yesterday")).toBeNull();
  });

  it("formats a time for a cell, with a dash when missing", () => {
    expect(formatTime("2026-01-01T00:00:10.250Z")).toBe("2026-01-01 00:00:10 UTC");
    expect(formatTime(null)).toBe("—");
  });

  it("says how long ago", () => {
    const now = 1767225610;
    expect(formatRelative("2026-01-01T00:00:00Z", now)).toBe("10s ago");
    expect(formatRelative("2026-01-01T02:00:10Z", now)).toBe("in 2h");
    expect(formatDuration(200)).toBe("3m 20s");
    expect(formatDuration(3 * 86400 + 4 * 3600 + 5)).toBe("3d 4h");
  });
});

describe("numbers", () => {
  it("keeps about four significant digits", () => {
    expect(formatValue(12.34567)).toBe("12.35");
    expect(formatValue(123456)).toBe("123,456");
    expect(formatValue(0.0001234)).toBe("1.234e-4");
    expect(formatValue(null)).toBe("—");
    expect(formatValue(Number.NaN)).toBe("—");
    expect(formatScore(0.956)).toBe("0.96");
  });

  it("shows the window's bounds as times and other features as numbers", () => {
    expect(featureText("window_start", 1767225610)).toBe("2026-01-01 00:00:10 UTC");
    expect(featureText("mean", 1767225610)).toBe("1.767e+9");
    expect(featureText("p99", 93.71)).toBe("93.71");
  });
});

describe("ordering", () => {
  it("ranks states alerting > anomalous > stale > ok", () => {
    expect(worseState("ok", "stale")).toBe("stale");
    expect(worseState("alerting", "anomalous")).toBe("alerting");
    expect(worseState("anomalous", "mystery")).toBe("anomalous");
  });

  it("puts critical before warning before unknown severities", () => {
    expect(["warning", "x", "critical"].sort(compareSeverity)).toEqual(["critical", "warning", "x"]);
  });

  it("prints label sets sorted by name", () => {
    expect(formatLabels({ b: "2", a: "1" })).toBe('{a="1", b="2"}');
  });
});
