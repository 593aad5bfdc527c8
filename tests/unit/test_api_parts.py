"""The API's pure parts: tokens, query parameters, matchers, cursors, series state."""

from __future__ import annotations

import pytest

from padit_stream.api.auth import Tokens, check_bind
from padit_stream.api.errors import ApiError
from padit_stream.api.query import Params, decode_cursor, encode_cursor, parse_matchers
from padit_stream.api.series_state import SeriesFilter, list_series, merge_history
from padit_stream.api.times import format_time, parse_time
from padit_stream.core.history import SCORES, VALUES, HistoryConfig, HistoryState, meta_key
from padit_stream.errors import ConfigError
from padit_stream.schema import metric_key
from tests.unit.changelog import Rows


def status_of(fn: object) -> int:
    with pytest.raises(ApiError) as caught:
        fn()  # type: ignore[operator]
    return caught.value.status


def test_read_and_write_tokens() -> None:
    both = Tokens(read="r", write="w")
    both.check("Bearer r", write=False)
    both.check("Bearer w", write=False)  # the write token reads too
    both.check("bearer w", write=True)
    assert status_of(lambda: both.check(None, write=False)) == 401
    assert status_of(lambda: both.check("Basic abc", write=False)) == 401
    assert status_of(lambda: both.check("Bearer x", write=False)) == 403
    assert status_of(lambda: both.check("Bearer r", write=True)) == 403
    only_read = Tokens(read="r")
    only_read.check("Bearer r", write=True)  # one token for everything
    assert status_of(lambda: only_read.check(None, write=True)) == 401
    only_write = Tokens(write="w")
    only_write.check(None, write=False)  # reads open, changes guarded
    assert status_of(lambda: only_write.check(None, write=True)) == 401
    Tokens().check(None, write=True)  # no token: open (loopback only, see check_bind)


def test_bind_beyond_loopback_needs_a_read_token() -> None:
    check_bind("127.0.0.1", Tokens())
    check_bind("::1", Tokens())
    check_bind("0.0.0.0", Tokens(read="r"))
    for host, tokens in (("0.0.0.0", Tokens()), ("10.1.2.3", Tokens(write="w"))):
        with pytest.raises(ConfigError, match=r"refusing to start.*PADIT_API_TOKEN"):
            check_bind(host, tokens)


def test_params_name_every_bad_field() -> None:
    query = {"limit": "0", "state": "odd", "since": "2026-01-01", "extra": "1", "source": "x"}
    params = Params(query, {k: [v] for k, v in query.items()})
    assert params.text("source") == "x"
    params.integer("limit", 10, 1, 100)
    params.choice("state", ("ok", "stale"))
    params.time("since")
    with pytest.raises(ApiError) as caught:
        params.done()
    err = caught.value
    assert err.status == 400
    assert [f for f, _ in err.fields] == ["limit", "state", "since", "extra"]
    assert err.body()["error"]["code"] == "invalid_request"


def test_matchers_in_alertmanager_syntax() -> None:
    ms = parse_matchers(['{a="b", c=~"d.*"}', 'e!="f,g"'])
    assert [(m.name, m.op, m.value) for m in ms] == [
        ("a", "=", "b"),
        ("c", "=~", "d.*"),
        ("e", "!=", "f,g"),
    ]
    with pytest.raises(ValueError):
        parse_matchers('{a="b}')


def test_cursor_and_times_round_trip() -> None:
    assert decode_cursor(encode_cursor(["a/b", "ü"])) == ["a/b", "ü"]
    with pytest.raises(ValueError):
        decode_cursor("not-a-cursor!")
    assert parse_time(format_time(1_767_225_600.25) or "") == 1_767_225_600.25
    for bad in ("2026-01-01", "2026-01-01T00:00:00", "soon"):
        with pytest.raises(ValueError):
            parse_time(bad)


def _series(rows: Rows, source: str, metric: str, value: float, score: float, wall: float) -> None:
    key = metric_key(source, metric)
    v = HistoryState(key, HistoryConfig())
    v.add(1_767_225_600.0, value, wall, labels={"site": source[-1]})
    s = HistoryState(key, HistoryConfig(), SCORES)
    s.add(1_767_225_600.0, score, wall, tag=b'{"detector": "zscore"}')
    rows.apply(v.flush() + s.flush())


def test_listing_filters_and_states() -> None:
    rows = Rows()
    _series(rows, "du-1", "rtt_ms", 1.0, 0.9, wall=1000.0)
    _series(rows, "du-2", "rtt_ms", 2.0, 0.1, wall=1000.0)
    _series(rows, "du-3", "rtt_ms", 3.0, 0.1, wall=10.0)
    _series(rows, "du-4", "rtt_ms", 4.0, 0.1, wall=1000.0)
    scan = [(0, k, v) for k, v in rows.items() if k.startswith(meta_key(VALUES, b""))]

    def listing(flt: SeriesFilter, limit: int | None = None) -> list[tuple[str, str]]:
        items = list_series(
            reversed(scan),
            lambda p, k: rows.get(k),
            flt=flt,
            alert_phase=lambda p, s, m, d: "firing" if s == "du-4" else "inactive",
            limit=limit,
            now=1000.0,
            stale_after=300.0,
            threshold=0.5,
        )
        return [(i["source_id"], i["state"]) for i in items]

    assert listing(SeriesFilter()) == [
        ("du-1", "anomalous"),
        ("du-2", "ok"),
        ("du-3", "stale"),
        ("du-4", "alerting"),
    ]
    assert listing(SeriesFilter(state="stale")) == [("du-3", "stale")]
    assert listing(SeriesFilter(), limit=2) == [("du-1", "anomalous"), ("du-2", "ok")]
    assert listing(SeriesFilter(after=("du-2", "rtt_ms"))) == [
        ("du-3", "stale"),
        ("du-4", "alerting"),
    ]
    assert listing(SeriesFilter(matchers=tuple(parse_matchers('site=~"[13]"')))) == [
        ("du-1", "anomalous"),
        ("du-3", "stale"),
    ]


def test_history_points_merge_values_and_scores() -> None:
    from padit_stream.core.history import Bucket

    points = merge_history(
        [Bucket(10, 1.0, 2.0, 3.0)], [Bucket(10, 0.1, 0.2, 0.3), Bucket(11, 0.5, 0.5, 0.5)],
        60.0, None, None,
    )  # fmt: skip
    assert points == [
        {"time": format_time(600.0), "min": 1.0, "mean": 2.0, "max": 3.0, "score_max": 0.3},
        {"time": format_time(660.0), "min": None, "mean": None, "max": None, "score_max": 0.5},
    ]
