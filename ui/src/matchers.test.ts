import { describe, expect, it } from "vitest";
import {
  formatMatcher,
  fromApiMatcher,
  matchersFromLabels,
  matchesAll,
  parseMatcher,
  parseMatcherLines,
  previewMuted,
} from "./matchers";

describe("parseMatcher", () => {
  it("reads the four operators, quoted or not", () => {
    expect(parseMatcher('source_id="du-1"')).toEqual({ name: "source_id", op: "=", value: "du-1" });
    expect(parseMatcher("severity != warning")).toEqual({ name: "severity", op: "!=", value: "warning" });
    expect(parseMatcher('metric_name=~"lat.*"')).toEqual({ name: "metric_name", op: "=~", value: "lat.*" });
    expect(parseMatcher("x!~'a|b'")).toEqual({ name: "x", op: "!~", value: "a|b" });
  });

  it("unescapes quotes and backslashes inside a quoted value", () => {
    expect(parseMatcher('a="say \\"hi\\" \\\\ bye"').value).toBe('say "hi" \\ bye');
  });

  it("rejects text that is not a matcher, naming what was expected", () => {
    expect(() => parseMatcher("source_id")).toThrow(/expected name="value"/);
    expect(() => parseMatcher('9bad="x"')).toThrow(/not a matcher/);
  });

  it("rejects a broken regular expression", () => {
    expect(() => parseMatcher('a=~"("')).toThrow(/invalid regular expression/);
  });
});

describe("matching", () => {
  const labels = { source_id: "du-1", severity: "warning", metric_name: "latency_ms" };

  it("anchors regular expressions at both ends", () => {
    expect(matchesAll([parseMatcher('severity=~"warn"')], labels)).toBe(false);
    expect(matchesAll([parseMatcher('severity=~"warn.*"')], labels)).toBe(true);
    expect(matchesAll([parseMatcher('severity!~"crit.*"')], labels)).toBe(true);
  });

  it("treats a missing label as the empty string", () => {
    expect(matchesAll([parseMatcher('team=""')], labels)).toBe(true);
    expect(matchesAll([parseMatcher('team!=""')], labels)).toBe(false);
  });

  it("needs every matcher", () => {
    const ms = [parseMatcher('source_id="du-1"'), parseMatcher('severity="critical"')];
    expect(matchesAll(ms, labels)).toBe(false);
  });
});

describe("preview", () => {
  const alerts = [
    { id: "a", labels: { source_id: "du-1", severity: "warning" } },
    { id: "b", labels: { source_id: "du-2", severity: "critical" } },
    { id: "c", labels: { source_id: "du-10", severity: "critical" } },
  ];

  it("lists the alerts a silence would mute", () => {
    expect(previewMuted([parseMatcher('source_id=~"du-1.*"')], alerts).map((a) => a.id)).toEqual(["a", "c"]);
    expect(previewMuted([parseMatcher('severity="critical"'), parseMatcher('source_id!="du-2"')], alerts).map((a) => a.id)).toEqual(["c"]);
  });

  it("mutes nothing without a matcher (the API refuses an empty silence)", () => {
    expect(previewMuted([], alerts)).toEqual([]);
  });

  it("parses lines, reporting each bad line by number", () => {
    const parsed = parseMatcherLines('source_id="du-1"\n\nnonsense\nseverity=~"(')
    expect(parsed.matchers).toHaveLength(1);
    expect(parsed.errors.map((e) => e.line)).toEqual([3, 4]);
  });
});

describe("prefill from an alert", () => {
  it("makes one equality matcher per label, sorted, that round-trips through the parser", () => {
    const labels = { source_id: 'du "1"', alertname: "PaditAnomaly" };
    const texts = matchersFromLabels(labels).map(formatMatcher);
    expect(texts).toEqual(['alertname="PaditAnomaly"', 'source_id="du \\"1\\""']);
    expect(matchesAll(texts.map(parseMatcher), labels)).toBe(true);
    expect(matchesAll(texts.map(parseMatcher), { ...labels, source_id: "du-2" })).toBe(false);
  });
});

describe("API form", () => {
  it("maps isEqual/isRegex to the four operators", () => {
    const ops = [
      [true, false],
      [false, false],
      [true, true],
      [false, true],
    ].map(([isEqual, isRegex]) => fromApiMatcher({ name: "a", value: "b", isEqual, isRegex }).op);
    expect(ops).toEqual(["=", "!=", "=~", "!~"]);
  });
});
