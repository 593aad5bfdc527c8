// Silences: the list (active and pending, expired on request), a form to create one, expiry.

import { useState } from "react";
import { api, ApiError, type Silence } from "../api";
import { SilenceForm } from "../components/SilenceForm";
import { Empty, ErrorBox, Loading, Updated } from "../components/Status";
import { formatRelative, formatTime } from "../format";
import { navigate, useNow, usePoll, useRoute } from "../hooks";
import { formatMatcher, fromApiMatcher, parseMatcherLines } from "../matchers";

function SilenceRow({ s, onExpired }: { s: Silence; onExpired: () => void }) {
  const now = useNow();
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState<ApiError>();
  const expire = async () => {
    try {
      await api.expireSilence(s.id);
      setConfirm(false);
      onExpired();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, "client", String(err)));
    }
  };
  const expired = s.status === "expired";
  return (
    <li className="silence-row" data-silence-id={s.id} data-status={s.status}>
      <div className="row wrap">
        <span className={`badge silence-${s.status}`}>{s.status}</span>
        {s.matchers.map((m, i) => (
          <code key={i} className="matcher">
            {formatMatcher(fromApiMatcher(m))}
          </code>
        ))}
      </div>
      <div className="meta">
        {expired ? "ended" : "ends"} <span title={formatTime(s.ends_at)}>{formatRelative(s.ends_at, now)}</span> · by{" "}
        {s.created_by} · {s.comment} · <span className="id">{s.id}</span>
      </div>
      {!expired &&
        (confirm ? (
          <span className="row">
            Expire now?{" "}
            <button type="button" className="danger small" onClick={() => void expire()}>
              Yes, expire
            </button>
            <button type="button" className="secondary small" onClick={() => setConfirm(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button type="button" className="secondary small" onClick={() => setConfirm(true)}>
            Expire
          </button>
        ))}
      <ErrorBox error={error} title="Not expired" />
    </li>
  );
}

export function SilencesPage({ creating, prefill }: { creating: boolean; prefill: string[] }) {
  const { params } = useRoute();
  const [showExpired, setShowExpired] = useState(false);
  const [filter, setFilter] = useState("");
  // Only a complete matcher goes to the server, so typing does not flash a 400 error.
  const sent = filter.trim() && parseMatcherLines(filter).errors.length === 0 ? filter.trim() : undefined;
  const silences = usePoll(
    () => api.silences({ expired: showExpired ? "true" : undefined, filter: sent }),
    [showExpired, sent],
  );
  const only = params.get("id");
  const items = (silences.data?.items ?? []).filter((s) => !only || s.id === only);

  return (
    <div className="page silences">
      <h1>
        Silences <Updated at={silences.updatedAt} />
      </h1>
      {creating ? (
        <SilenceForm
          key={prefill.join("\n")}
          prefill={prefill}
          onCreated={() => {
            navigate("#/silences");
            silences.refresh();
          }}
        />
      ) : (
        <p>
          <a className="button" href="#/silences/new">
            New silence
          </a>
        </p>
      )}
      <div className="filters">
        <input
          type="search"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          placeholder='filter: source_id="du-1"'
          aria-label="filter silences"
        />
        <label className="check">
          <input type="checkbox" checked={showExpired} onChange={(e) => setShowExpired(e.target.checked)} /> include
          expired
        </label>
        {only && <a href="#/silences">show all</a>}
      </div>
      <ErrorBox error={silences.error} title="Silences" />
      {silences.loading && !silences.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <Empty>
          No silences{showExpired ? "" : " in force"}. Create one here, or from an alert with its Silence button (the
          alert's labels are filled in).
        </Empty>
      ) : (
        <ul className="silence-list">
          {items.map((s) => (
            <SilenceRow key={s.id} s={s} onExpired={silences.refresh} />
          ))}
        </ul>
      )}
    </div>
  );
}
