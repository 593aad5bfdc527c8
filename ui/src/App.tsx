// The console's frame: navigation, the token prompt, and the page for the current address.

import { useEffect, useState } from "react";
import { api } from "./api";
import { TokenPrompt } from "./components/TokenPrompt";
import { usePoll, useRoute } from "./hooks";
import { AlertPage } from "./pages/AlertPage";
import { AlertsPage } from "./pages/AlertsPage";
import { Overview } from "./pages/Overview";
import { SeriesList } from "./pages/SeriesList";
import { SeriesPage } from "./pages/SeriesPage";
import { SilencesPage } from "./pages/SilencesPage";
import { getToken } from "./token";

const NAV: [string, string][] = [
  ["", "Overview"],
  ["series", "Series"],
  ["alerts", "Alerts"],
  ["silences", "Silences"],
];

function Page({ parts, params }: { parts: string[]; params: URLSearchParams }) {
  const [section, a, b] = parts;
  switch (section ?? "") {
    case "":
      return <Overview />;
    case "series":
      return a && b ? <SeriesPage source={a} metric={b} /> : <SeriesList />;
    case "alerts":
      return a ? <AlertPage id={a} /> : <AlertsPage />;
    case "silences":
      return <SilencesPage creating={a === "new"} prefill={params.getAll("matcher")} />;
    default:
      return (
        <div className="empty">
          No page here. Use the navigation above: <a href="#/">Overview</a>.
        </div>
      );
  }
}

export function App() {
  const { parts, params } = useRoute();
  const [askToken, setAskToken] = useState(false);
  // The status call doubles as the token check: 401/403 there means ask for the token.
  const status = usePoll(() => api.status(), []);
  const authError = status.error?.isAuth ? status.error : undefined;
  const [hasToken, setHasToken] = useState(Boolean(getToken()));
  useEffect(() => {
    const on = () => setHasToken(Boolean(getToken()));
    window.addEventListener("padit-token", on);
    return () => window.removeEventListener("padit-token", on);
  }, []);
  const version = typeof status.data?.version === "string" ? status.data.version : "";

  return (
    <div className="app">
      <header className="top">
        <a className="brand" href="#/">
          PADIT
        </a>
        <nav>
          {NAV.map(([path, label]) => (
            <a key={path} href={`#/${path}`} className={(parts[0] ?? "") === path ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
        <span className="spacer" />
        {version && <span className="version">v{version}</span>}
        <button type="button" className="secondary small" onClick={() => setAskToken((v) => !v)}>
          {hasToken ? "Token ✓" : "Token"}
        </button>
      </header>
      <main>
        {authError ? (
          <TokenPrompt
            reason={
              authError.status === 403
                ? "The worker refused this token (403). Enter the right one."
                : "This PADIT cluster requires an API token (401). Enter it to see sources, alerts and silences."
            }
          />
        ) : (
          <>
            {askToken && <TokenPrompt onDone={() => setAskToken(false)} />}
            <Page parts={parts} params={params} />
          </>
        )}
      </main>
    </div>
  );
}
