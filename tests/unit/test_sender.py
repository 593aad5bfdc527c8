"""The batch sender against a producer that refuses what a real broker would refuse."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, NamedTuple

import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError, NotLeaderForPartitionError
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch

from padit_stream import sender as sender_module
from padit_stream.errors import RecordTooLargeError
from padit_stream.sender import BatchSender

BATCH = 512 * 1024


class Delivered(NamedTuple):
    offset: int


class Broker:
    """Stands in for aiokafka's producer; decides per batch what a broker would answer."""

    def __init__(self, max_message_bytes: int = 1_048_588) -> None:
        self.max_message_bytes = max_message_bytes
        self.topics: dict[
            tuple[str, int], list[tuple[bytes | None, bytes | None, dict[str, bytes]]]
        ] = {}
        self.refuse_next: list[BaseException] = []  # errors for the next batches, in order
        self.enqueue_errors: list[BaseException] = []  # raised by send_batch itself
        self.batches: Counter[str] = Counter()

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(BATCH, 0)

    async def send_batch(
        self, builder: BatchBuilder, topic: str, *, partition: int
    ) -> asyncio.Future[Any]:
        if self.enqueue_errors:
            raise self.enqueue_errors.pop(0)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        data = bytes(builder._build())
        records = [(r.key, r.value, dict(r.headers)) for r in DefaultRecordBatch(data)]
        self.batches[topic] += 1
        if self.refuse_next:
            future.set_exception(self.refuse_next.pop(0))
        elif any(len(k or b"") + len(v or b"") > self.max_message_bytes for k, v, _ in records):
            future.set_exception(MessageSizeTooLargeError())
        else:
            log = self.topics.setdefault((topic, partition), [])
            future.set_result(Delivered(len(log)))
            log.extend(records)
        return future

    def values(self, topic: str, partition: int = 0) -> list[bytes | None]:
        return [v for _, v, _ in self.topics.get((topic, partition), [])]


class Input(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sender_module, "_BACKOFF_START", 0.001)


def make(broker: Broker, **kwargs: Any) -> BatchSender:
    return BatchSender(lambda: broker, dead_letter_topic="dlq", **kwargs)


async def test_records_reach_their_partitions_in_order() -> None:
    broker = Broker()
    sender = make(broker)
    for i in range(1000):
        sender.add("out", i % 2, b"k", b"%d" % i)
    await sender.flush()
    await sender.settle()
    assert broker.values("out", 0) == [b"%d" % i for i in range(0, 1000, 2)]
    assert broker.values("out", 1) == [b"%d" % i for i in range(1, 1000, 2)]
    assert sender.stats == Counter()


async def test_a_record_too_large_to_send_is_refused_when_added() -> None:
    broker = Broker()
    sender = make(broker)
    sender.add("out", 0, b"k", b"small")
    with pytest.raises(RecordTooLargeError):
        sender.add("out", 0, b"k", b"x" * (BATCH + 1))
    with pytest.raises(RecordTooLargeError):
        sender.add("new", 0, b"k" * BATCH, b"x")
    sender.add("out", 0, b"k", b"after")
    await sender.settle()
    assert broker.values("out") == [b"small", b"after"] and ("new", 0) not in broker.topics


async def test_the_dead_letter_of_a_huge_record_is_truncated_with_its_size_and_digest() -> None:
    broker = Broker()
    sender = make(broker, dead_letter_max_bytes=4096)
    huge = Input("metrics", 3, 7, b"K" * 1_000_000, b"V" * 1_000_000)
    sender.dead_letter(huge, "field 'source_id' is 1000000 characters", "decode")
    await sender.settle()
    [(key, value, headers)] = broker.topics[("dlq", 3)]
    assert len(key or b"") + len(value or b"") < 4096
    assert headers["padit-truncated"] == b"true"
    assert headers["padit-original-key-bytes"] == b"1000000"
    assert headers["padit-original-value-bytes"] == b"1000000"
    assert len(headers["padit-value-sha256"]) == 64
    assert headers["padit-offset"] == b"7" and headers["padit-stage"] == b"decode"


async def test_a_record_the_broker_refuses_is_found_and_dead_lettered_alone() -> None:
    broker = Broker(max_message_bytes=3000)
    sender = make(broker, dead_letter_max_bytes=2048)
    for i in range(10):
        sender.add("out", 0, b"k", b"x" * (5000 if i == 4 else 10) + b"%d" % i)
    await sender.flush()
    await sender.settle()
    assert broker.values("out") == [b"x" * 10 + b"%d" % i for i in range(10) if i != 4]
    [(_, _, headers)] = broker.topics[("dlq", 0)]
    assert headers["padit-original-value-bytes"] == b"5001"
    assert b"refused the record for out[0]" in headers["padit-reason"]
    assert sender.stats["undeliverable"] == 1 and sender.stats["resent"] == 10


async def test_retriable_failures_are_sent_again_whole() -> None:
    broker = Broker()
    broker.refuse_next = [KafkaTimeoutError(), NotLeaderForPartitionError()]
    sender = make(broker)
    for i in range(5):
        sender.add("out", 0, None, b"%d" % i)
    await sender.settle()
    assert broker.values("out") == [b"%d" % i for i in range(5)]
    assert sender.stats["send_retries"] == 2 and ("dlq", 0) not in broker.topics


async def test_changelog_rows_are_never_dead_lettered() -> None:
    class Table:
        class changelog_topic:  # noqa: N801 - the shape of a Faust table
            @staticmethod
            def get_topic_name() -> str:
                return "app-windows-changelog"

        class data:  # noqa: N801
            @staticmethod
            def set_persisted_offset(tp: Any, offset: int) -> None:
                persisted.append(offset)

    persisted: list[int] = []
    broker = Broker()
    broker.refuse_next = [MessageSizeTooLargeError()]
    sender = make(broker)
    sender.track_changelog(Table)
    sender.add("app-windows-changelog", 0, b"k", b"row")
    await sender.settle()
    assert broker.values("app-windows-changelog") == [b"row"] and persisted == [0]


async def test_a_producer_that_refuses_to_enqueue_is_retried() -> None:
    broker = Broker()
    broker.enqueue_errors = [KafkaTimeoutError(), KafkaTimeoutError()]
    sender = make(broker)
    sender.add("out", 0, None, b"v")
    await sender.flush()
    await sender.settle()
    assert broker.values("out") == [b"v"] and sender.stats["send_retries"] == 2


async def test_a_sender_that_is_closing_gives_up_instead_of_retrying() -> None:
    broker = Broker()
    broker.enqueue_errors = [KafkaTimeoutError()] * 1000
    sender = make(broker)
    sender.add("out", 0, None, b"v")
    sender.closing = True
    await asyncio.wait_for(sender.flush(), 5)
    assert broker.values("out") == []


async def test_a_dead_letter_the_broker_refuses_is_counted_as_lost() -> None:
    broker = Broker(max_message_bytes=100)
    sender = make(broker, dead_letter_max_bytes=2000)
    sender.dead_letter(Input("metrics", 0, 1, None, b"x" * 1500), "bad", "decode")
    await sender.settle()
    assert sender.stats["lost"] == 1 and sender.stats["dead_letters"] == 1


async def test_a_flood_of_dead_letters_logs_a_bounded_number_of_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = make(Broker())
    with caplog.at_level("WARNING", logger="padit_stream.sender"):
        for i in range(500):
            sender.dead_letter(Input("metrics", 0, i, None, b"bad"), "not JSON", "decode")
    assert 0 < len(caplog.records) <= 60
    assert sender.stats["dead_letters"] == 500
