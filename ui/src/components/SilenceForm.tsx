// A new silence: matchers (one per line, Alertmanager syntax), how long, who and why, with a
// live preview of the alerts it would mute.

import { useMemo, useState, type FormEvent } from "react";
import { api, ApiError } from "../api";
import { formatLabels, toRfc3339 } from "../format";
import { usePoll } from "../hooks";
import { parseMatcherLines, previewMuted } from "../matchers";
import { ErrorBox, SeverityBadge } from "./Status";

const DURATIONS: [string, number][] = [
  ["1 hour", 3600],
  ["2 hours", 7200],
  ["4 hours", 14400],
  ["1 day", 86400],
  ["1 week", 604800],
];
const AUTHOR_KEY = "padit.silenceAuthor";

export function SilenceForm({ prefill, onCreated }: { prefill: string[]; onCreated: (id: string) => void }) {
  const [text, setText] = useState(prefill.join("\n"));
  const [seconds, setSeconds] = useState(7200);
  const [author, setAuthor] = useState(() => sessionStorage.getItem(AUTHOR_KEY) ?? "");
  const [comment, setComment] = useState("");
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const alerts = usePoll(() => api.alerts(), []);

  const parsed = useMemo(() => parseMatcherLines(text), [text]);
  const muted = useMemo(
    () => (parsed.errors.length ? [] : previewMuted(parsed.matchers, alerts.data?.items ?? [])),
    [parsed, alerts.data],
  );
  const missing = [
    parsed.matchers.length === 0 ? "at least one matcher" : "",
    author.trim() ? "" : "who creates it",
    comment.trim() ? "" : "a comment saying why",
  ].filter(Boolean);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (parsed.errors.length || missing.length) return;
    setBusy(true);
    setError(undefined);
    sessionStorage.setItem(AUTHOR_KEY, author.trim());
    const now = Date.now() / 1000;
    try {
      const made = await api.createSilence({
        matchers: text.split("\n").map((l) => l.trim()).filter(Boolean),
        starts_at: toRfc3339(now),
        ends_at: toRfc3339(now + seconds),
        created_by: author.trim(),
        comment: comment.trim(),
      });
      onCreated(made.id);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, "client", String(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card silence-form" onSubmit={submit} aria-label="New silence">
      <h2>New silence</h2>
      <label>
        <span>
          Matchers, one per line (<code>name="value"</code>, <code>!=</code>, <code>=~</code>, <code>!~</code>)
        </span>
        <textarea
          name="matchers"
          rows={Math.max(3, text.split("\n").length + 1)}
          value={text}
          onChange={(e) => setText(e.target.value)}
          spellCheck={false}
        />
      </label>
      {parsed.errors.map((er) => (
        <div key={er.line} className="field-error">
          line {er.line}: {er.message}
        </div>
      ))}
      <div className="row wrap">
        <label>
          Duration
          <select value={seconds} onChange={(e) => setSeconds(Number(e.target.value))} name="duration">
            {DURATIONS.map(([label, s]) => (
              <option key={s} value={s}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Created by
          <input name="created_by" value={author} onChange={(e) => setAuthor(e.target.value)} placeholder="your name" />
        </label>
      </div>
      <label>
        Comment
        <input
          name="comment"
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          placeholder="why: maintenance window, known issue, ticket…"
        />
      </label>
      <div className="preview" aria-label="Preview" data-testid="silence-preview">
        <h3>Would mute {muted.length} of {alerts.data?.items.length ?? 0} current alerts</h3>
        <ul>
          {muted.slice(0, 50).map((a) => (
            <li key={a.id} data-alert-id={a.id}>
              <span className={`badge status-${a.status}`}>{a.status}</span> <SeverityBadge severity={a.severity} />{" "}
              <code>{formatLabels(a.labels)}</code>
            </li>
          ))}
        </ul>
        {muted.length === 0 && parsed.matchers.length > 0 && (
          <p className="hint">No current alert matches; the silence still mutes matching alerts that fire later.</p>
        )}
      </div>
      <ErrorBox error={error} title="Silence not created" />
      {missing.length > 0 && <p className="hint">Still needed: {missing.join(", ")}.</p>}
      <button type="submit" disabled={busy || parsed.errors.length > 0 || missing.length > 0}>
        Create silence
      </button>
    </form>
  );
}
