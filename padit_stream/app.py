"""Builds the Faust app from the settings (``faust -A padit_stream.app worker``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import faust

from padit_stream.consumer import BulkHandler, BulkTransport
from padit_stream.security import faust_credentials
from padit_stream.settings import Settings, load_settings

__all__ = ["PaditApp", "app", "create_app", "settings"]


class PaditApp(faust.App):
    """A Faust app with bulk agents, that creates its topics before its consumer subscribes.

    Faust subscribes to the topics its agents read before it declares them; on a new
    deployment the metrics topic then does not exist yet, the group is assigned without it,
    and nothing is consumed until the next metadata refresh minutes later.
    """

    #: Topics to create (with their configured partitions) before the consumer starts.
    owned_topics: list[Any]

    def __init__(self, *args: Any, bulk_slice: int = 500, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: topic name -> handler of that topic's records (see padit_stream.consumer).
        self.bulk_handlers: dict[str, BulkHandler] = {}
        #: Records per handler call: a key's state is written once per call.
        self.bulk_slice = bulk_slice
        self._bulk_flushers: list[Callable[[], Awaitable[None]]] = []

    def bulk_agent(self, topic: Any, *, name: str) -> Callable[[BulkHandler], BulkHandler]:
        """Register ``handler(partition, records)`` for every record of ``topic``.

        The consumer calls it with a slice of one partition's fetched records, then awaits
        the flushers (:meth:`on_bulk_flush`) and acknowledges the records.
        """

        def register(handler: BulkHandler) -> BulkHandler:
            topic_name = topic.get_topic_name()
            if topic_name in self.bulk_handlers:
                raise ValueError(f"{topic_name} already has a bulk agent")
            self.bulk_handlers[topic_name] = handler
            handler.__padit_agent__ = name  # type: ignore[attr-defined]
            self.topics.add(topic)  # subscribe; records never reach the topic's queue
            return handler

        return register

    def on_bulk_flush(self, flusher: Callable[[], Awaitable[None]]) -> None:
        """Await ``flusher`` after bulk handlers ran, before their input is acknowledged."""
        self._bulk_flushers.append(flusher)

    async def flush_bulk(self) -> None:
        for flusher in self._bulk_flushers:
            await flusher()

    def _new_transport(self) -> Any:
        return BulkTransport(self.conf.broker_consumer, self)

    async def on_first_start(self) -> None:
        await super().on_first_start()
        for topic in getattr(self, "owned_topics", ()):
            await topic.maybe_declare()


def create_app(settings: Settings) -> PaditApp:
    """A Faust app configured from ``settings``; agents and views are found by autodiscovery."""
    conf = settings.app
    return PaditApp(
        conf.id,
        bulk_slice=conf.batch_size,
        broker=conf.broker,
        broker_credentials=faust_credentials(settings.kafka, where="kafka"),
        store="rocksdb://",
        datadir=str(conf.data_dir),
        autodiscover=["padit_stream.agents", "padit_stream.views"],
        origin="padit_stream",
        # Topic keys and table keys must serialise the same way, or table_route asks the
        # wrong worker: both are the raw bytes of core.wire.metric_key.
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.topics.partitions,
        topic_replication_factor=settings.topics.replication,
        table_standby_replicas=conf.standby_replicas,
        broker_session_timeout=conf.session_timeout_sec,
        broker_heartbeat_interval=min(3.0, conf.session_timeout_sec / 3),
        web_enabled=True,
        web_bind=conf.web_host,
        web_host=conf.web_host,
        web_port=conf.web_port,
        # The RocksDB defaults (64 MiB write buffers, 2 GiB block cache per partition) are
        # sized for few large partitions; PADIT has many small ones.
        rocksdb_options={
            "write_buffer_size": 4 * 1024 * 1024,
            "max_write_buffer_number": 2,
            "block_cache_size": 8 * 1024 * 1024,
            "block_cache_compressed_size": 2 * 1024 * 1024,
        },
        producer_acks=-1,
        # The agents hand whole partition batches to the producer (padit_stream.sender).
        producer_max_batch_size=512 * 1024,
        producer_linger_ms=5,
        logging_config=None,
    )


settings = load_settings()
app = create_app(settings)
