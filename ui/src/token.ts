// The API token lives in sessionStorage, never in a cookie: the browser sends it only when
// this code adds it, so another site cannot make the browser act with it (no CSRF surface),
// and it is gone when the tab closes.

const KEY = "padit.apiToken";

export function getToken(): string {
  try {
    return sessionStorage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token.trim());
  window.dispatchEvent(new Event("padit-token"));
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
  window.dispatchEvent(new Event("padit-token"));
}
