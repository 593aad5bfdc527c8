"""The notification stage over an in-memory row store: what it keeps across restarts and
how much it writes."""

from __future__ import annotations

from typing import Any

import orjson

from padit_stream.alerting.config import AlertingConfig
from padit_stream.alerting.notification import Notification
from padit_stream.alerting.notify.base import Notifier
from padit_stream.alerting.notify.delivery import Delivery
from padit_stream.alerting.stage import NotificationStage
from padit_stream.schema import Alert, fingerprint

HOUR = 3600.0


class MemoryStore:
    """Rows of one table in a dict, counting the bytes written (keys and values)."""

    def __init__(self) -> None:
        self.rows: dict[bytes, bytes] = {}
        self.written = 0

    def get(self, partition: int, key: bytes) -> bytes | None:
        return self.rows.get(key)

    def items(self, partition: int, prefix: bytes = b"") -> list[tuple[bytes, bytes]]:
        return [(k, v) for k, v in self.rows.items() if k.startswith(prefix)]

    def write(self, partition: int, rows: list[tuple[bytes, bytes | None]]) -> int:
        size = 0
        for key, value in rows:
            size += len(key) + len(value or b"")
            if value is None:
                self.rows.pop(key, None)
            else:
                self.rows[key] = value
        self.written += size
        return size


class Recorder(Notifier):
    kind = "recorder"

    def __init__(self) -> None:
        super().__init__("team/recorder[0]", send_resolved=True)
        self.sent: list[str] = []

    def render(self, notification: Notification) -> list[Any]:
        return [notification.id]

    async def send(self, message: Any, now: float) -> None:
        self.sent.append(message)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def config(**route: Any) -> AlertingConfig:
    return AlertingConfig.model_validate(
        {
            "route": {"receiver": "team", "group_by": ["source_id"], "group_wait": 30, **route},
            "receivers": [{"name": "team"}],
        }
    )


def make_alert(source: str, metric: str = "rtt_ms", status: str = "firing") -> Alert:
    fp = fingerprint(source, metric, "z", {})
    return Alert(
        alert_id=f"id-{fp}",
        fingerprint=fp,
        timestamp=1.0,
        source_id=source,
        metric_name=metric,
        detector="z",
        severity="warning",
        status=status,  # type: ignore[arg-type]
        title=f"{metric} anomalous on {source}",
        description="a description of a realistic length for an alert record " * 3,
        score=0.8,
        peak_score=0.8,
        starts_at=1.0,
        labels={"alertname": "PaditAnomaly", "source_id": source, "metric_name": metric},
    )


def stage(
    store: MemoryStore, clock: Clock, cfg: AlertingConfig | None = None
) -> tuple[NotificationStage, Recorder]:
    recorder = Recorder()

    def factory(config: AlertingConfig, **kwargs: Any) -> Delivery:
        return Delivery(config.delivery, {"team": [recorder]}, clock=clock, **kwargs)

    return NotificationStage(cfg or config(), store, clock, factory), recorder


async def test_expired_silences_are_forgotten_after_the_retention() -> None:
    store, clock = MemoryStore(), Clock()
    s, _ = stage(store, clock)
    silence = s.create_silence(
        {"matchers": ['source_id="du-1"'], "starts_at": 0, "ends_at": 9e9, "created_by": "me"}
    )
    s.expire_silence(silence.id)
    ended = clock.now
    clock.now = ended + 119 * HOUR
    await s.tick()
    assert [x["id"] for x in s.list_silences()] == [silence.id]
    clock.now = ended + 121 * HOUR
    await s.tick()
    assert s.list_silences() == []
    assert not any(silence.id.encode() in key + value for key, value in store.rows.items())
    restarted, _ = stage(store, clock)
    assert restarted.list_silences() == []


async def test_the_retention_is_configurable() -> None:
    store, clock = MemoryStore(), Clock()
    cfg = AlertingConfig.model_validate({**config().model_dump(), "data_retention": "1h"})
    s, _ = stage(store, clock, cfg)
    silence = s.create_silence(
        {"matchers": ['source_id="du-1"'], "starts_at": 0, "ends_at": 9e9, "created_by": "me"}
    )
    s.expire_silence(silence.id)
    clock.now += 2 * HOUR
    await s.tick()
    assert s.list_silences() == []


async def test_an_alert_writes_its_own_rows_not_every_group() -> None:
    for cfg in (config(), config(group_by=["alertname"])):
        store, clock = MemoryStore(), Clock()
        s, _ = stage(store, clock, cfg)
        for i in range(300):
            await s.on_alert(make_alert(f"du-{i}"))
        one_record = len(orjson.dumps(make_alert("du-5").to_dict()))
        before = store.written
        await s.on_alert(make_alert("du-5", "loss"))
        # Its alert row and, for a new group, the group's row: not the other 300 alerts.
        assert store.written - before < 3 * one_record


async def test_delivery_counts_survive_a_restart() -> None:
    store, clock = MemoryStore(), Clock()
    s, recorder = stage(store, clock)
    await s.on_alert(make_alert("du-1"))
    clock.now += 30
    assert await s.tick() == 1
    assert len(recorder.sent) == 1 and s.delivery_stats()["sent"] == 1
    restarted, again = stage(store, clock)
    stats = restarted.delivery_stats()
    assert stats["sent"] == 1
    assert stats["integrations"]["team/recorder[0]"]["last_sent_at"] == clock.now
    # The restarted stage does not notify again what was notified.
    clock.now += 400
    assert await restarted.tick() == 0 and again.sent == []


async def test_suppressed_alerts_are_recorded_listed_and_not_notified() -> None:
    store, clock = MemoryStore(), Clock()
    s, recorder = stage(store, clock)
    silence = s.create_silence(
        {"matchers": ['source_id="du-1"'], "starts_at": 0, "ends_at": 9e9, "created_by": "me"}
    )
    marked = await s.on_alert(make_alert("du-1"))
    assert marked.mute_status.to_dict() == {
        "state": "suppressed",
        "silencedBy": [silence.id],
        "inhibitedBy": [],
    }
    other = await s.on_alert(make_alert("du-2"))
    assert other.mute_status.state == "active"
    listed = {a["labels"]["source_id"]: a["status"]["state"] for a in s.list_alerts()}
    assert listed == {"du-1": "suppressed", "du-2": "active"}
    clock.now += 30
    assert await s.tick() == 1 and len(recorder.sent) == 1


async def test_whole_document_rows_are_split_into_rows_and_keep_their_log() -> None:
    store, clock = MemoryStore(), Clock()
    alert = make_alert("du-1")
    key = 'team\0{}:{source_id="du-1"}'
    group = {
        "group_key": '{}:{source_id="du-1"}',
        "receiver": "team",
        "group_labels": {"source_id": "du-1"},
        "group_wait": 30.0,
        "group_interval": 300.0,
        "repeat_interval": 14400.0,
        "created_at": clock.now - 100,
        "next_flush": clock.now + 200,
        "alerts": {alert.fingerprint: alert.to_dict()},
        "notified": {alert.fingerprint: f"{alert.alert_id}/{alert.severity}"},
        "last_sent_at": clock.now - 70,
        "seq": 1,
        "origin": "o",
    }
    silence = {
        "id": "s1",
        "matchers": [{"name": "source_id", "op": "=", "value": "du-9"}],
        "starts_at": 0.0,
        "ends_at": 9e9,
        "created_by": "me",
        "comment": "",
        "time_window": None,
        "created_at": 0.0,
        "updated_at": 0.0,
    }
    store.rows[b"groups"] = orjson.dumps({"groups": {key: group}, "inhibition": {}})
    store.rows[b"silences"] = orjson.dumps([silence])
    s, recorder = stage(store, clock)
    assert b"groups" not in store.rows and b"silences" not in store.rows
    assert [x["id"] for x in s.list_silences()] == ["s1"]
    assert [a["fingerprint"] for a in s.list_alerts()] == [alert.fingerprint]
    # Notified before: nothing new to send.
    clock.now += 400
    assert await s.tick() == 0 and recorder.sent == []
    await s.on_alert(make_alert("du-1", status="resolved"))
    clock.now += 300
    # The group's log carried its sequence over: this is its second notification.
    assert await s.tick() == 1 and [m.rsplit("-", 1)[1] for m in recorder.sent] == ["2"]
