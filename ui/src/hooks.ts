// Polling and hash routing: the console's live updates and page addresses.

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "./api";

export const POLL_MS = 5000;

export interface Polled<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** When the last successful answer arrived (epoch ms). */
  updatedAt: number | undefined;
  refresh: () => void;
}

/**
 * Calls `load` now and every `intervalMs` while the tab is visible, keeping the last good
 * answer on screen while a later poll fails (the error is shown beside it).
 */
export function usePoll<T>(load: () => Promise<T>, deps: unknown[], intervalMs = POLL_MS): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<number>();
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    setData(undefined);
    setLoading(true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (document.visibilityState === "hidden") {
        timer = setTimeout(run, intervalMs);
        return;
      }
      try {
        const value = await loadRef.current();
        if (cancelled) return;
        setData(value);
        setError(undefined);
        setUpdatedAt(Date.now());
      } catch (err) {
        if (cancelled) return;
        setError(err instanceof ApiError ? err : new ApiError(0, "client", String(err)));
      } finally {
        if (!cancelled) {
          setLoading(false);
          timer = setTimeout(run, intervalMs);
        }
      }
    };
    void run();
    const onToken = () => setTick((t) => t + 1);
    window.addEventListener("padit-token", onToken);
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
      window.removeEventListener("padit-token", onToken);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, intervalMs]);

  const refresh = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, updatedAt, refresh };
}

export interface Route {
  /** Path segments after `#/`, decoded. */
  parts: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const [path, q = ""] = raw.split("?", 2);
  const parts = path
    .split("/")
    .filter((p) => p !== "")
    .map((p) => decodeURIComponent(p));
  return { parts, params: new URLSearchParams(q) };
}

export function href(parts: string[], params?: Record<string, string>): string {
  const path = parts.map((p) => encodeURIComponent(p)).join("/");
  const q = params ? new URLSearchParams(params).toString() : "";
  return `#/${path}${q ? `?${q}` : ""}`;
}

export function useRoute(): Route {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return parseHash(hash);
}

export function navigate(to: string): void {
  window.location.hash = to.replace(/^#/, "");
}

/** The clock for relative times, ticking once a second. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now() / 1000);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now() / 1000), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}
