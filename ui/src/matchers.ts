// Alertmanager's label matchers, as the worker parses them (padit_stream/alerting/matchers.py):
// `name="value"`, `!=`, `=~` and `!~`; regular expressions anchored at both ends; a missing
// label matches as the empty string. The silence form previews with these before it posts.

export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

export type Labels = Record<string, string>;

const MATCHER_RE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/** Parses one matcher; throws an Error whose message says what was expected. */
export function parseMatcher(raw: string): Matcher {
  const found = MATCHER_RE.exec(raw);
  if (!found) {
    throw new Error(`not a matcher (expected name="value", !=, =~ or !~): ${raw.trim() || "(empty)"}`);
  }
  const [, name, op, rawValue] = found;
  let value = rawValue;
  if (value.length >= 2 && value[0] === value[value.length - 1] && (value[0] === '"' || value[0] === "'")) {
    value = value.slice(1, -1).replace(/\\"/g, '"').replace(/\\\\/g, "\\");
  }
  if (op === "=~" || op === "!~") {
    try {
      new RegExp(value);
    } catch (err) {
      throw new Error(`invalid regular expression ${JSON.stringify(value)}: ${(err as Error).message}`);
    }
  }
  return { name, op: op as MatchOp, value };
}

export interface ParsedMatchers {
  matchers: Matcher[];
  /** One message per line that is not a matcher, with its 1-based line number. */
  errors: { line: number; message: string }[];
}

/** Parses one matcher per line (or comma-free list); blank lines are ignored. */
export function parseMatcherLines(text: string): ParsedMatchers {
  const matchers: Matcher[] = [];
  const errors: { line: number; message: string }[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      matchers.push(parseMatcher(line));
    } catch (err) {
      errors.push({ line: i + 1, message: (err as Error).message });
    }
  });
  return { matchers, errors };
}

const regexCache = new Map<string, RegExp>();

function anchored(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    if (regexCache.size > 256) regexCache.clear();
    re = new RegExp(`^(?:${pattern})$`);
    regexCache.set(pattern, re);
  }
  return re;
}

export function matches(m: Matcher, labels: Labels): boolean {
  const actual = labels[m.name] ?? "";
  switch (m.op) {
    case "=":
      return actual === m.value;
    case "!=":
      return actual !== m.value;
    case "=~":
      return anchored(m.value).test(actual);
    case "!~":
      return !anchored(m.value).test(actual);
  }
}

/** Every matcher matches (an empty list matches everything, as in Alertmanager). */
export function matchesAll(ms: Matcher[], labels: Labels): boolean {
  return ms.every((m) => matches(m, labels));
}

export function formatMatcher(m: Matcher): string {
  const escaped = m.value.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  return `${m.name}${m.op}"${escaped}"`;
}

/** Equality matchers for an alert's labels, sorted by name: the prefill of "silence this". */
export function matchersFromLabels(labels: Labels, skip: string[] = []): Matcher[] {
  return Object.keys(labels)
    .filter((k) => !skip.includes(k))
    .sort()
    .map((name) => ({ name, op: "=" as MatchOp, value: labels[name] }));
}

/** The items whose labels every matcher matches: the preview of what a silence would mute. */
export function previewMuted<T extends { labels: Labels }>(ms: Matcher[], items: T[]): T[] {
  if (ms.length === 0) return [];
  return items.filter((it) => matchesAll(ms, it.labels));
}

/** A matcher from Alertmanager's API form (`isRegex`, `isEqual`). */
export function fromApiMatcher(m: { name: string; value: string; isRegex: boolean; isEqual: boolean }): Matcher {
  const op: MatchOp = m.isEqual ? (m.isRegex ? "=~" : "=") : m.isRegex ? "!~" : "!=";
  return { name: m.name, op, value: m.value };
}
