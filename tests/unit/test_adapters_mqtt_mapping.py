"""MQTT topic filters, templates and payload mapping (no broker)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adapters.mqtt.mapping import MappingError, Subscription, map_message, topic_matches


@pytest.mark.parametrize(
    ("flt", "topic", "ok"),
    [
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a/b/d", False),
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("#", "x/y", True),
        ("a/+", "a", False),
        ("a/+", "a/", True),
        ("a/b", "a/b/c", False),
    ],
)
def test_topic_matches(flt: str, topic: str, ok: bool) -> None:
    assert topic_matches(flt, topic) is ok


def sub(**kw: object) -> Subscription:
    return Subscription.model_validate(kw)


def test_json_fields_map_each_path_and_name_metrics_by_field() -> None:
    s = sub(topic="site/+/env", source="{1}", metric="env.{field}", payload="json",
            json_fields={"t": "a.t", "h": "a.h[2]", "ok": "flag"})  # fmt: skip
    src, vals, problems = map_message(
        s, s.compiled_paths(), "site/r1/env", b'{"a": {"t": -3.5, "h": [0, 1, 2e3]}, "flag": true}'
    )
    assert (src, vals, problems) == (
        "r1",
        [("env.t", -3.5), ("env.h", 2000.0), ("env.ok", 1.0)],
        [],
    )


def test_partial_json_keeps_the_fields_found() -> None:
    s = sub(topic="x", metric="{field}", payload="json", json_fields={"a": "a", "b": "b"})
    assert map_message(s, s.compiled_paths(), "x", b'{"a": 1, "b": "n/a"}') == (
        None, [("a", 1.0)], ["field b not a number"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("payload", "reason"),
    [(b"hot", "not a number"), (b"nan", "not a finite number"), (b"", "not a number")],
)
def test_unmappable_number_payloads(payload: bytes, reason: str) -> None:
    s = sub(topic="a/+", metric="{1}")
    with pytest.raises(MappingError, match=reason):
        map_message(s, [], "a/b", payload)


def test_bad_json_and_missing_field() -> None:
    s = sub(topic="a", metric="{field}", payload="json", json_fields={"v": "x.y"})
    with pytest.raises(MappingError, match="not JSON"):
        map_message(s, s.compiled_paths(), "a", b"{")
    with pytest.raises(MappingError, match="field v missing"):
        map_message(s, s.compiled_paths(), "a", b'{"x": {}}')


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"topic": "a/#/b"}, "bad topic filter"),
        ({"topic": "a/b+"}, "bad topic filter"),
        ({"topic": "a/+", "metric": "{5}"}, "no segment 5"),
        ({"topic": "a/+", "metric": "{x}"}, "neither a segment number"),
        ({"topic": "a", "payload": "json"}, "needs json_fields"),
        ({"topic": "a", "json_fields": {"v": "v"}}, "need payload: json"),
        (
            {"topic": "a", "metric": "m", "payload": "json", "json_fields": {"v": "a..b"}},
            "bad field path",
        ),
    ],
)
def test_config_errors_say_what_is_wrong(kw: dict[str, object], msg: str) -> None:
    with pytest.raises(ValidationError, match=msg):
        sub(**kw)
