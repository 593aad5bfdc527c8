"""PADIT relies on private parts of Faust, mode and aiokafka; an upgrade must fail here."""

from __future__ import annotations

import inspect

import faust
from faust.transport.consumer import Consumer

from padit_stream.consumer import BulkConsumer

# Methods of Faust's consumer that BulkConsumer calls or replaces.
_METHODS = ("_drain_messages", "_wait_next_records", "_add_gap", "_to_message", "perform_seek")
# State that BulkConsumer reads and updates as Faust's own drain loop and ack path do.
_STATE = (
    "_read_offset",
    "_committed_offset",
    "_acked",
    "_acked_index",
    "_n_acked",
    "_waiting_for_ack",
    "_commit_every",
    "_buffered_partitions",
)


def test_faust_is_the_version_the_override_was_written_for() -> None:
    assert faust.__version__ == "0.15.3", "re-check padit_stream/consumer.py against this Faust"


def test_faust_consumer_still_has_the_methods_the_override_relies_on() -> None:
    missing = [name for name in _METHODS if not callable(getattr(Consumer, name, None))]
    assert missing == []


def test_faust_consumer_still_sets_up_the_state_the_override_updates() -> None:
    source = inspect.getsource(Consumer.__init__) + inspect.getsource(Consumer)
    missing = [name for name in _STATE if f"self.{name}" not in source]
    assert missing == []


def test_bulk_consumer_replaces_the_drain_loop() -> None:
    assert BulkConsumer._drain_messages is not Consumer._drain_messages
    assert issubclass(BulkConsumer, Consumer)


def test_the_other_private_faust_and_mode_apis_padit_uses_are_still_there() -> None:
    # padit_stream.stores: the RocksDB handle of one table partition.
    from faust.stores.rocksdb import Store

    assert callable(getattr(Store, "_db_for_partition", None))
    # padit_stream.sender: the changelog offset a table's store holds (recovery starts there).
    assert callable(getattr(Store, "set_persisted_offset", None))
    # padit_stream.stream: the started aiokafka producer behind Faust's producer.
    from faust.transport.drivers.aiokafka import Producer

    assert callable(getattr(Producer, "_ensure_producer", None))
    # padit_stream.cluster: the tables' recovery has an event set when it completed.
    from faust.tables.recovery import Recovery

    assert "self.completed = Event()" in inspect.getsource(Recovery.__init__)
    # padit_stream.worker and padit_stream.app: the shutdown and crash hooks they extend.
    from mode import Service, Worker

    assert "def _schedule_shutdown(self, signal" in inspect.getsource(Worker)
    assert "self._crash(reason)" in inspect.getsource(Service.crash)


def test_the_private_aiokafka_apis_the_sender_uses_are_still_there() -> None:
    # padit_stream.sender reads back the records of a batch the broker refused.
    from aiokafka.producer.message_accumulator import BatchBuilder
    from aiokafka.record.default_records import DefaultRecordBatch

    builder = BatchBuilder(1024, 0)
    builder.append(timestamp=None, key=b"k", value=b"v", headers=[("h", b"1")])
    [record] = list(DefaultRecordBatch(bytes(builder._build())))
    assert (record.key, record.value, list(record.headers)) == (b"k", b"v", [("h", b"1")])
