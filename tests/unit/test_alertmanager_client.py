"""The Alertmanager client's keeping, resending and retrying (HTTP answered in-process; the
real Alertmanager is in tests/integration/test_alertmanager.py). Also the dead-letter reason
classes of the real messages the stages write."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from padit_stream.alertmanager import AlertmanagerClient
from padit_stream.core.clock import TimeBounds
from padit_stream.core.window import SlidingWindow
from padit_stream.deadletter import reason_class
from padit_stream.errors import LateSampleError, RecordTooLargeError
from padit_stream.schema import Alert
from padit_stream.settings import AlertmanagerSettings
from padit_stream.stages import internal_error
from tests.unit.stream_fakes import TableRows


def _alert(status: str = "firing", fp: str = "f1", ends_at: float | None = None) -> Alert:
    return Alert(
        alert_id=f"{fp}-1", fingerprint=fp, timestamp=100.0, source_id="du-1",
        metric_name="rtt_ms", detector="zscore", severity="warning", status=status,  # type: ignore[arg-type]
        title="t", description="d", score=0.8, peak_score=0.8, starts_at=100.0, ends_at=ends_at,
        labels={"alertname": "PaditAnomaly", "source_id": "du-1"},
    )  # fmt: skip


class _Peer:
    """Answers /api/v2/alerts like Alertmanager, or fails while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.received: list[list[dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("refused", request=request)
        assert request.url.path == "/api/v2/alerts"
        self.received.append(orjson.loads(request.content))
        return httpx.Response(200)


def _client(peer: _Peer, clock: list[float], **settings: Any) -> AlertmanagerClient:
    return AlertmanagerClient(
        AlertmanagerSettings(urls=["http://am.test:9093"], resend_interval_sec=60, **settings),
        TableRows(),
        http=httpx.AsyncClient(transport=httpx.MockTransport(peer)),
        clock=lambda: clock[0],
    )


async def test_firing_is_resent_each_interval_and_resolved_ends_it() -> None:
    peer, clock = _Peer(), [1000.0]
    client = _client(peer, clock)
    client.on_alert(0, _alert())
    await client.tick([0])
    assert len(peer.received) == 1
    sent = peer.received[0][0]
    assert sent["endsAt"] == "1970-01-01T00:20:40.000Z"  # now + 4 x 60 s
    await client.tick([0])
    assert len(peer.received) == 1  # nothing new, interval not over
    clock[0] += 60
    await client.tick([0])
    assert len(peer.received) == 2  # re-sent from the kept row
    client.on_alert(0, _alert("resolved", ends_at=1050.0))
    await client.tick([0])
    assert peer.received[-1][0]["endsAt"] == "1970-01-01T00:17:30.000Z"


async def test_an_alertmanager_that_was_down_gets_the_alerts_later() -> None:
    peer, clock = _Peer(), [1000.0]
    client = _client(peer, clock)
    peer.down = True
    client.on_alert(0, _alert(fp="a"))
    client.on_alert(0, _alert(fp="b"))
    await client.tick([0])
    assert client.errors["http://am.test:9093"] == 1 and client.pending() == {
        "http://am.test:9093": 2
    }
    await client.tick([0])  # backing off: no new attempt yet
    assert client.errors["http://am.test:9093"] == 1
    peer.down = False
    clock[0] += 1.5
    await client.tick([0])
    assert sorted(a["labels"]["source_id"] for a in peer.received[0]) == ["du-1", "du-1"]
    assert client.pending() == {"http://am.test:9093": 0}
    assert client.sent["http://am.test:9093"] == 2


async def test_resolved_alerts_are_dropped_after_their_retention() -> None:
    peer, clock = _Peer(), [1000.0]
    client = _client(peer, clock, resolved_retention_sec=100)
    client.on_alert(0, _alert("resolved", ends_at=990.0))
    client.on_alert(0, _alert("firing", fp="f2"))
    clock[0] += 101
    assert client.requeue([0]) == 1
    assert [k for k, _ in client.rows.items(0)] == [b"am:f2"]


async def test_a_new_owner_sends_the_rows_it_recovered() -> None:
    peer, clock = _Peer(), [1000.0]
    first = _client(peer, clock)
    first.on_alert(3, _alert())
    second = _client(peer, clock)
    second.rows = first.rows  # the table, recovered from its changelog
    second.on_assigned()
    await second.tick([3])
    assert peer.received[-1][0]["labels"]["alertname"] == "PaditAnomaly"


def test_settings_refuse_a_url_without_scheme() -> None:
    with pytest.raises(ValueError, match="expected http"):
        AlertmanagerSettings(urls=["am:9093"])


def test_reason_classes_of_the_messages_the_stream_writes() -> None:
    window = SlidingWindow(span=300, lateness=1)
    window.add(100.0, 1.0)
    with pytest.raises(LateSampleError) as late:
        window.add(50.0, 1.0)
    bounds = TimeBounds(max_future=300, min_timestamp=946_684_800.0)
    assert reason_class(str(late.value)) == "late"
    assert reason_class(bounds.why(2e9, 1.7e9) or "") == "timestamp"
    assert reason_class(bounds.why(5.0, 1.7e9) or "") == "timestamp"
    assert reason_class(internal_error(KeyError("x"))) == "internal"
    assert reason_class(f"cannot be re-keyed: {RecordTooLargeError('t', 10**7)}") == "too_large"
    assert reason_class("record is 70000 bytes, over the limit of 65536") == "too_large"
    assert reason_class("field 'value' must be a number, got str") == "invalid"
