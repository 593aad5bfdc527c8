// Every series the cluster holds: search, state filter, sortable columns, virtualized rows.

import { useMemo, useState } from "react";
import { allSeries, type SeriesItem } from "../api";
import { Empty, ErrorBox, Loading, StateBadge, Updated } from "../components/Status";
import { VirtualRows } from "../components/VirtualRows";
import { formatRelative, formatScore, formatValue } from "../format";
import { href, useNow, usePoll, useRoute } from "../hooks";
import { filterSeries, sortSeries, type SortKey } from "../seriesList";

const COLUMNS: [SortKey, string][] = [
  ["source_id", "Source"],
  ["metric_name", "Metric"],
  ["state", "State"],
  ["last_value", "Last value"],
  ["last_score", "Score"],
  ["last_time", "Last seen"],
];

export function SeriesList() {
  const { params } = useRoute();
  const [text, setText] = useState(params.get("q") ?? "");
  const [state, setState] = useState(params.get("state") ?? "");
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "state", desc: true });
  const series = usePoll(() => allSeries(), []);
  const now = useNow();

  const rows = useMemo(
    () => sortSeries(filterSeries(series.data ?? [], { text, state }), sort.key, sort.desc),
    [series.data, text, state, sort],
  );
  const total = series.data?.length ?? 0;

  const header = (key: SortKey, label: string) => (
    <button
      type="button"
      className={`th sort ${sort.key === key ? "sorted" : ""}`}
      onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== "source_id" && key !== "metric_name" }))}
    >
      {label}
      {sort.key === key ? (sort.desc ? " ▾" : " ▴") : ""}
    </button>
  );

  return (
    <div className="page series-list">
      <h1>
        Series <Updated at={series.updatedAt} />
      </h1>
      <div className="filters">
        <input
          type="search"
          placeholder="search source, metric, labels…"
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-label="search series"
        />
        <select value={state} onChange={(e) => setState(e.target.value)} aria-label="state">
          <option value="">all states</option>
          <option value="alerting">alerting</option>
          <option value="anomalous">anomalous</option>
          <option value="stale">stale</option>
          <option value="ok">ok</option>
        </select>
        <span className="count" data-testid="series-count">
          {rows.length} of {total}
        </span>
      </div>
      <ErrorBox error={series.error} title="Series" />
      {series.loading && !series.data ? (
        <Loading />
      ) : total === 0 ? (
        <Empty>
          No series yet. Series appear once an adapter (or <code>make run</code>'s demo producer) sends metrics
          and a worker has windowed them.
        </Empty>
      ) : rows.length === 0 ? (
        <Empty>No series matches. Clear the search or pick "all states".</Empty>
      ) : (
        <div className="vtable" role="table" aria-label="series">
          <div className="vrow head" role="row">
            {COLUMNS.map(([key, label]) => (
              <div
                key={key}
                className={`cell c-${key}`}
                role="columnheader"
                aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"}
              >
                {header(key, label)}
              </div>
            ))}
          </div>
          <VirtualRows<SeriesItem>
            items={rows}
            rowHeight={36}
            height="calc(100vh - 220px)"
            rowKey={(it) => `${it.source_id}\u0000${it.metric_name}`}
            render={(it) => (
              <>
                <div className="cell c-source_id" role="cell">
                  <a href={href(["series", it.source_id, it.metric_name])}>{it.source_id}</a>
                </div>
                <div className="cell c-metric_name" role="cell">
                  <a href={href(["series", it.source_id, it.metric_name])}>{it.metric_name}</a>
                </div>
                <div className="cell c-state" role="cell">
                  <StateBadge state={it.state} />
                </div>
                <div className="cell c-last_value num" role="cell">
                  {formatValue(it.last_value)}
                </div>
                <div className="cell c-last_score num" role="cell">
                  {formatScore(it.last_score)}
                </div>
                <div className="cell c-last_time" role="cell" title={it.last_time ?? ""}>
                  {formatRelative(it.last_time, now)}
                </div>
              </>
            )}
          />
        </div>
      )}
    </div>
  );
}
