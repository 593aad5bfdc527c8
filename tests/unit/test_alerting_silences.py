"""Matchers, silences with start/end and recurring windows, and their validation."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from padit_stream.alerting.matchers import Matcher, parse_matcher
from padit_stream.alerting.silence import (
    SilenceError,
    SilenceNotFoundError,
    SilenceSpec,
    SilenceStore,
    TimeWindow,
)
from padit_stream.errors import DecodeError, PaditError

LABELS = {"source_id": "ru-1", "metric_name": "latency_ms", "severity": "warning"}


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ('source_id="ru-1"', LABELS, True),
        ('source_id="ru-2"', LABELS, False),
        ('source_id!="ru-2"', LABELS, True),
        ("severity=~warning|critical", LABELS, True),
        ('severity=~"warn"', LABELS, False),  # anchored, like Alertmanager
        ('metric_name!~".*latency.*"', LABELS, False),
        ('metric_name!~"up"', LABELS, True),
        ('site=""', LABELS, True),  # a missing label is the empty string
        ('site!=""', LABELS, False),
        ('site=~".+"', LABELS, False),
    ],
)
def test_matchers(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_matcher(text).matches(labels) is expected


def test_matcher_text_round_trips() -> None:
    m = parse_matcher('comment="say \\"hi\\""')
    assert m.value == 'say "hi"'
    assert parse_matcher(str(m)) == m
    assert parse_matcher({"name": "a", "op": "!~", "value": "x.*"}) == Matcher(
        name="a", op="!~", value="x.*"
    )


@pytest.mark.parametrize("bad", ["novalue", "1abc=x", 'a=~"("', 42])
def test_bad_matchers_are_rejected(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_matcher(bad)


def spec(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "matchers": ['source_id="ru-1"'],
        "starts_at": "2026-01-05T00:00:00Z",
        "ends_at": "2026-01-10T00:00:00Z",
        "created_by": "oncall",
        "comment": "maintenance",
    }
    base.update(kw)
    return base


T0 = datetime.fromisoformat("2026-01-05T00:00:00+00:00").timestamp()


def test_status_follows_start_and_end() -> None:
    store = SilenceStore()
    s = store.create(spec(starts_at=T0 + 100), now=T0, silence_id="s1")
    assert s.status(T0) == "pending" and store.matching(LABELS, T0) == ()
    assert s.status(T0 + 100) == "active" and store.matching(LABELS, T0 + 100) == ("s1",)
    end = datetime.fromisoformat("2026-01-10T00:00:00+00:00").timestamp()
    assert s.status(end) == "expired" and store.matching(LABELS, end) == ()
    assert store.matching({**LABELS, "source_id": "ru-2"}, T0 + 100) == ()


def test_expire_ends_a_silence_now() -> None:
    store = SilenceStore()
    store.create(spec(), now=T0, silence_id="s1")
    expired = store.expire("s1", now=T0 + 60)
    assert expired.ends_at == T0 + 60 and expired.status(T0 + 60) == "expired"
    assert store.matching(LABELS, T0 + 61) == ()
    with pytest.raises(SilenceError, match="already expired"):
        store.expire("s1", now=T0 + 120)
    with pytest.raises(SilenceNotFoundError):
        store.expire("nope", now=T0)
    assert [s.id for s in store.list(T0 + 120)] == ["s1"]
    assert store.list(T0 + 120, include_expired=False) == []


def test_expiring_a_pending_silence() -> None:
    store = SilenceStore()
    store.create(spec(starts_at=T0 + 1000), now=T0, silence_id="s1")
    s = store.expire("s1", now=T0 + 10)
    assert s.starts_at == T0 + 10 and s.status(T0 + 10) == "expired"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"matchers": []}, "matchers"),
        ({"matchers": ['site=~".*"']}, "empty string"),
        ({"ends_at": "2026-01-04T00:00:00Z"}, "ends_at must be after starts_at"),
        ({"starts_at": "2026-01-05T00:00:00"}, "timezone"),
        ({"created_by": ""}, "created_by"),
        ({"matchers": ['a=~"("']}, "regular expression"),
        ({"time_window": {"days": ["funday"]}}, "weekday"),
        ({"time_window": {"start": "25:00"}}, "time of day"),
        ({"time_window": {"timezone": "Mars/Olympus"}}, "timezone"),
        ({"time_window": {"start": "10:00", "end": "10:00"}}, "must differ"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_silences_name_the_problem(change: dict[str, object], message: str) -> None:
    with pytest.raises(SilenceError, match=message) as info:
        SilenceStore().create(spec(**change), now=T0)
    assert isinstance(info.value, PaditError)


def test_a_silence_that_already_ended_is_refused() -> None:
    with pytest.raises(SilenceError, match="past"):
        SilenceStore().create(spec(), now=T0 + 30 * 86400)


def test_duplicate_id_is_refused() -> None:
    store = SilenceStore()
    store.create(spec(), now=T0, silence_id="s1")
    with pytest.raises(SilenceError, match="exists"):
        store.create(spec(), now=T0, silence_id="s1")


def local(text: str, tz: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


def test_recurring_window_in_a_timezone() -> None:
    window = TimeWindow(
        days=["monday", "tue", "wednesday", "thursday", "friday"],
        start="09:00",
        end="17:00",
        timezone="Europe/Paris",
    )
    # 2026-01-05 is a Monday; 2026-07-06 too (summer time, UTC+2).
    assert window.contains(local("2026-01-05T09:00", "Europe/Paris"))
    assert window.contains(local("2026-01-05T16:59", "Europe/Paris"))
    assert not window.contains(local("2026-01-05T17:00", "Europe/Paris"))
    assert not window.contains(local("2026-01-05T08:59", "Europe/Paris"))
    assert not window.contains(local("2026-01-10T10:00", "Europe/Paris"))  # Saturday
    assert window.contains(local("2026-07-06T09:30", "Europe/Paris"))
    # 08:30 UTC is 10:30 in Paris in July but 09:30 in January: both inside; 07:30 UTC
    # is inside only in July.
    assert window.contains(local("2026-07-06T07:30", "UTC"))
    assert not window.contains(local("2026-01-05T07:30", "UTC"))


def test_window_across_midnight_belongs_to_its_start_day() -> None:
    window = TimeWindow(days=["friday"], start="22:00", end="06:00", timezone="UTC")
    assert window.contains(local("2026-01-09T23:00", "UTC"))  # Friday night
    assert window.contains(local("2026-01-10T05:59", "UTC"))  # Saturday morning
    assert not window.contains(local("2026-01-10T06:00", "UTC"))
    assert not window.contains(local("2026-01-10T23:00", "UTC"))  # Saturday night
    assert not window.contains(local("2026-01-09T05:00", "UTC"))  # Friday morning


def test_recurring_silence_mutes_only_inside_its_window() -> None:
    store = SilenceStore()
    store.create(
        spec(
            ends_at="2026-03-01T00:00:00Z",
            time_window={"days": ["sat", "sun"], "start": "00:00", "end": "24:00"},
        ),
        now=T0,
        silence_id="weekend",
    )
    assert store.matching(LABELS, local("2026-01-10T12:00", "UTC")) == ("weekend",)
    assert store.matching(LABELS, local("2026-01-12T12:00", "UTC")) == ()
    # After the silence's end, even a weekend is not muted.
    assert store.matching(LABELS, local("2026-03-07T12:00", "UTC")) == ()


def test_store_round_trips_and_forgets_old_silences() -> None:
    store = SilenceStore()
    store.create(spec(time_window={"days": ["mon"]}), now=T0, silence_id="a")
    store.create(spec(matchers=['severity!="info"', "metric_name=~lat.*"]), now=T0, silence_id="b")
    restored = SilenceStore.decode(store.encode())
    assert restored.silences == store.silences
    store.expire("a", now=T0 + 10)
    assert store.gc(now=T0 + 10 + 86400, retention=3600) == 1
    assert list(store.silences) == ["b"]
    with pytest.raises(DecodeError):
        SilenceStore.decode(b"{")


def test_api_view() -> None:
    store = SilenceStore()
    s = store.create(SilenceSpec.model_validate(spec()), now=T0)
    view = s.to_api(T0 + 1)
    assert view["status"] == "active" and view["matchers"] == ['source_id="ru-1"']
    assert view["id"] == s.id and view["created_by"] == "oncall"
