// Asks for the API token and keeps it in sessionStorage (see token.ts for why not a cookie).

import { useState, type FormEvent } from "react";
import { clearToken, getToken, setToken } from "../token";

export function TokenPrompt({ reason, onDone }: { reason?: string; onDone?: () => void }) {
  const [value, setValue] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!value.trim()) return;
    setToken(value);
    setValue("");
    onDone?.();
  };
  return (
    <form className="token-prompt card" onSubmit={submit} aria-label="API token">
      <h2>API token</h2>
      <p>
        {reason ??
          "This PADIT cluster requires a token for its API. It is kept in this tab only (session storage) and sent as a bearer token."}
      </p>
      <p className="hint">
        Running the demo? <code>make run</code> prints the demo token. Otherwise ask whoever set{" "}
        <code>PADIT_API_TOKEN</code> on the workers.
      </p>
      <div className="row">
        <input
          type="password"
          name="token"
          autoComplete="off"
          placeholder="token"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-label="token"
        />
        <button type="submit" disabled={!value.trim()}>
          Use token
        </button>
        {getToken() && (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              clearToken();
              onDone?.();
            }}
          >
            Forget token
          </button>
        )}
      </div>
    </form>
  );
}
