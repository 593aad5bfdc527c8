// The worker's REST API (/api/v1): types of its answers and one fetch that adds the token
// and turns the error shape `{"error": {code, message, fields}}` into an ApiError.

import { getToken } from "./token";

export type Labels = Record<string, string>;

export interface SeriesItem {
  source_id: string;
  metric_name: string;
  labels: Labels;
  last_value: number | null;
  last_time: string | null;
  last_score: number | null;
  state: string;
  detector: string | null;
  alert_state: string | null;
}

export interface SeriesPage {
  items: SeriesItem[];
  next_cursor: string | null;
}

export interface HistoryPoint {
  time: string;
  min: number | null;
  mean: number | null;
  max: number | null;
  score_max: number | null;
}

export interface AlertInterval {
  alert_id: string;
  starts_at: string;
  ends_at: string | null;
  severity: string;
}

export interface SeriesDetail {
  source_id: string;
  metric_name: string;
  window: Record<string, unknown> | null;
  features: Record<string, number | null> | null;
  explanation: unknown;
  history: HistoryPoint[];
  alert_intervals: AlertInterval[];
}

export interface Alert {
  id: string;
  labels: Labels;
  annotations: Record<string, string>;
  status: string;
  severity: string;
  starts_at: string;
  ends_at: string | null;
  silenced_by: string[];
  inhibited_by: string[];
  receivers: string[];
  group_key: string;
}

export interface AlertDetail extends Alert {
  timeline: Record<string, unknown>[];
  notifications: Record<string, unknown>[];
}

/** A silence's matcher as Alertmanager's API writes it. */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface Silence {
  id: string;
  matchers: SilenceMatcher[];
  starts_at: string;
  ends_at: string;
  created_by: string;
  comment: string;
  status: string;
}

export interface NewSilence {
  matchers: string[];
  starts_at: string;
  ends_at: string;
  created_by: string;
  comment: string;
}

export type Status = Record<string, unknown>;

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The token is missing (401) or wrong (403): the console asks for it again. */
  get isAuth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** Reads the error shape; tolerates a body that is not JSON (a proxy's HTML page, say). */
export function errorFromBody(status: number, body: unknown, fallback: string): ApiError {
  const err = (body as { error?: unknown } | null)?.error;
  if (err && typeof err === "object") {
    const e = err as { code?: string; message?: string; fields?: FieldError[] };
    return new ApiError(status, e.code ?? String(status), e.message ?? fallback, e.fields ?? []);
  }
  if (typeof err === "string") {
    const detail = (body as { detail?: string }).detail;
    return new ApiError(status, err, detail ? `${err}: ${detail}` : err);
  }
  return new ApiError(status, String(status), fallback);
}

export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const token = getToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (init.body) headers.set("Content-Type", "application/json");
  let response: Response;
  try {
    response = await fetch(`api/v1${path}`, { ...init, headers });
  } catch (err) {
    throw new ApiError(0, "unreachable", `The worker did not answer (${(err as Error).message}). Is it running?`);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw errorFromBody(response.status, body, `${response.status} ${response.statusText}`);
  }
  return body as T;
}

/** Query string from the non-empty entries. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const api = {
  series: (params: Record<string, string | number | undefined> = {}) =>
    apiFetch<SeriesPage>(`/series${query(params)}`),
  seriesDetail: (source: string, metric: string) =>
    apiFetch<SeriesDetail>(`/series/${encodeURIComponent(source)}/${encodeURIComponent(metric)}`),
  alerts: (params: Record<string, string | undefined> = {}) =>
    apiFetch<{ items: Alert[] }>(`/alerts${query(params)}`),
  alert: (id: string) => apiFetch<AlertDetail>(`/alerts/${encodeURIComponent(id)}`),
  silences: (params: Record<string, string | boolean | undefined> = {}) =>
    apiFetch<{ items: Silence[] }>(`/silences${query(params)}`),
  createSilence: (s: NewSilence) =>
    apiFetch<{ id: string }>(`/silences`, { method: "POST", body: JSON.stringify(s) }),
  expireSilence: (id: string) =>
    apiFetch<unknown>(`/silences/${encodeURIComponent(id)}`, { method: "DELETE" }),
  status: () => apiFetch<Status>(`/status`),
};

/** Every page of /series (the list page filters and sorts in the browser). */
export async function allSeries(maxPages = 200): Promise<SeriesItem[]> {
  const items: SeriesItem[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await api.series({ limit: 1000, cursor });
    items.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}
