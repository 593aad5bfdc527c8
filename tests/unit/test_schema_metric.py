"""Metric records and keys (padit_stream.schema.metric): encode, decode, limits, reasons."""

from __future__ import annotations

import orjson
import pytest

from padit_stream.errors import DecodeError
from padit_stream.schema import (
    decode_metric,
    encode_metric,
    metric_key,
    parse_metric_key,
    partition_for_key,
)


def _doc(**over: object) -> bytes:
    doc: dict[str, object] = {
        "timestamp": 1_700_000_000.5,
        "source_id": "o-ru-7",
        "metric_name": "rtt_ms",
        "value": 0.42,
    }
    doc.update(over)
    return orjson.dumps({k: v for k, v in doc.items() if v is not ...})


def test_round_trip_keeps_every_field() -> None:
    raw = encode_metric(
        12.5,
        "du|1",
        "rx/ok",
        3.0,
        unit="pkt",
        metric_type="counter",
        protocol="netconf",
        labels={"if": "eth0"},
    )
    m = decode_metric(raw)
    assert (m.timestamp, m.source_id, m.metric_name, m.value) == (12.5, "du|1", "rx/ok", 3.0)
    assert (m.unit, m.metric_type, m.protocol, m.labels) == (
        "pkt",
        "counter",
        "netconf",
        {"if": "eth0"},
    )


def test_iso_timestamp_is_accepted() -> None:
    m = decode_metric(_doc(timestamp="2026-01-01T00:00:00Z"))
    assert m.timestamp == 1_767_225_600.0


def test_integer_value_becomes_float() -> None:
    assert decode_metric(_doc(value=3)).value == 3.0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[]", "JSON object"),
        (_doc(timestamp=...), "missing field 'timestamp'"),
        (_doc(timestamp="yesterday"), "ISO 8601"),
        (_doc(timestamp=True), "bool"),
        (_doc(source_id=""), "'source_id' is empty"),
        (_doc(source_id=7), "'source_id' must be a string"),
        (_doc(metric_name=""), "'metric_name' is empty"),
        (_doc(value=...), "missing field 'value'"),
        (_doc(value="1.0"), "'value' must be a number"),
        (_doc(value=False), "'value' must be a number"),
        (b'{"timestamp": 1, "source_id": "a", "metric_name": "b", "value": NaN}', "NaN"),
        (b'{"timestamp": 1, "source_id": "a", "metric_name": "b", "value": -Infinity}', "Infinity"),
        (b'{"timestamp": 1, "source_id": "a", "metric_name": "b", "value": 1e999}', "not finite"),
        (_doc(metric_type="weird"), "metric_type"),
        (_doc(labels={"a": 1}), "labels"),
    ],
)
def test_invalid_records_name_the_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as err:
        decode_metric(raw)
    assert reason in err.value.reason


def test_key_is_unambiguous_and_reversible() -> None:
    assert metric_key("a|b", "c") != metric_key("a", "b|c")
    assert parse_metric_key(metric_key("du-1", 'x"y')) == ("du-1", 'x"y')
    with pytest.raises(DecodeError):
        parse_metric_key(b"nope")


@pytest.mark.parametrize(
    ("key", "java_murmur2"),
    # Test vectors of Kafka's own UtilsTest.testMurmur2 (signed 32-bit results).
    [(b"21", -973932308), (b"foobar", -790332482), (b"abc", 479470107)],
)
def test_partition_is_kafkas_default_partitioner(key: bytes, java_murmur2: int) -> None:
    # Java: Utils.toPositive(murmur2(key)) % numPartitions
    for partitions in (1, 4, 12, 7):
        assert partition_for_key(key, partitions) == (java_murmur2 & 0x7FFFFFFF) % partitions
