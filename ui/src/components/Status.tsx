// Badges, loading, empty and error states. Every error and empty state says what to do next.

import type { ReactNode } from "react";
import { ApiError } from "../api";

export function StateBadge({ state }: { state: string | null | undefined }) {
  const s = state || "unknown";
  return <span className={`badge state-${s}`}>{s}</span>;
}

export function SeverityBadge({ severity }: { severity: string | null | undefined }) {
  const s = severity || "none";
  return <span className={`badge sev-${s}`}>{s}</span>;
}

/** What the operator can do about an API error. */
export function adviceFor(err: ApiError): string {
  switch (err.status) {
    case 0:
      return "Check that the worker is running (make run starts one) and that this page's address points at it; the page retries every few seconds.";
    case 401:
      return "This worker requires an API token: enter it with the Token button (make run prints the demo token).";
    case 403:
      return "The token was refused: enter the right one with the Token button. Changes may need the write token.";
    case 404:
      return "Nothing by that name: pick it from the lists instead, or check the address.";
    case 400:
      return "Correct the fields named below and send again.";
    case 503:
      return "The cluster is starting, rebalancing or recovering; the page retries by itself.";
    default:
      return err.status >= 500
        ? "The worker failed to answer; its log says why. The page retries by itself."
        : "Check the request and try again.";
  }
}

export function ErrorBox({ error, title }: { error: ApiError | undefined; title?: string }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <strong>{title ?? "Could not load"}:</strong> {error.message}
      {error.fields.length > 0 && (
        <ul>
          {error.fields.map((f) => (
            <li key={f.field + f.message}>
              <code>{f.field}</code>: {f.message}
            </li>
          ))}
        </ul>
      )}
      <div className="advice">{adviceFor(error)}</div>
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Loading() {
  return <div className="loading">Loading…</div>;
}

export function Updated({ at }: { at: number | undefined }) {
  if (!at) return null;
  return <span className="updated">updated {new Date(at).toLocaleTimeString()}</span>;
}
