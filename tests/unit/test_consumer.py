"""The bulk consumer overrides private parts of Faust's consumer; an upgrade must fail here."""

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
