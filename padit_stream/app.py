"""The Faust app, built from settings by one function: :func:`create_app`.

``faust -A padit_stream.app worker`` and ``python -m padit_stream worker`` both run it; the
module attribute ``app`` is built on first access from ``config/padit.yaml`` (or
``PADIT_CONFIG``) and the environment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import faust

from padit_stream.consumer import BulkAgent, BulkHandler, BulkTransport
from padit_stream.security import faust_credentials
from padit_stream.sender import BATCH_BYTES
from padit_stream.series_export import SeriesExport
from padit_stream.settings import Settings, load_settings
from padit_stream.telemetry import StreamTelemetry
from padit_stream.worker import PaditWorker, Watchdog

__all__ = ["PaditApp", "create_app"]

logger = logging.getLogger(__name__)


class PaditApp(faust.App):
    """A Faust app with bulk agents, that creates its topics before its consumer subscribes.

    Faust subscribes to the topics its agents read before it declares them; on a new
    deployment the metrics topic then does not exist yet, the group is assigned without it,
    and nothing is consumed until the next metadata refresh minutes later.
    """

    def __init__(
        self, *args: Any, bulk_slice: int = 500, shutdown_timeout: float = 30.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        #: topic name -> its bulk agent (see padit_stream.consumer).
        self.bulk_agents: dict[str, BulkAgent] = {}
        #: Records per handler call: a key's state is written once per call.
        self.bulk_slice = bulk_slice
        self._bulk_flushers: list[Callable[[], Awaitable[None]]] = []
        #: Topics to create (with their configured partitions) before the consumer starts.
        self.owned_topics: list[Any] = []
        #: Set by :func:`create_app`: the shared state, stages and sender (not ``stream``:
        #: that is Faust's ``App.stream()``).
        self.padit: Any = None
        self.sender: Any = None
        self.padit_worker: PaditWorker | None = None
        #: Set by :func:`create_app`: the worker's metrics (``/metrics``).
        self.telemetry: Any = None
        self.watchdog = Watchdog(shutdown_timeout, self._give_up_sending)

    def _give_up_sending(self) -> None:
        if self.sender is not None:
            self.sender.closing = True

    def bulk_agent(
        self, topic: Any, *, stage: str, reset: Callable[[int], None] = lambda p: None
    ) -> Callable[[BulkHandler], BulkHandler]:
        """Register ``handler(partition, records)`` for every record of ``topic``.

        The consumer calls it with a slice of one partition's fetched records, then awaits
        the flushers (:meth:`on_bulk_flush`) and acknowledges the records. ``stage`` names
        the dead letters of records the handler fails on; ``reset(partition)`` drops the
        decoded state of a partition after the handler raised part-way through a slice.
        """

        def register(handler: BulkHandler) -> BulkHandler:
            topic_name = topic.get_topic_name()
            if topic_name in self.bulk_agents:
                raise ValueError(f"{topic_name} already has a bulk agent")
            self.bulk_agents[topic_name] = BulkAgent(handler, stage, reset)
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
        for topic in self.owned_topics:
            await topic.maybe_declare()

    def _crash(self, reason: BaseException) -> None:
        # Every component's crash reaches the app here (mode marks its parents crashed).
        # A crashed worker must exit, in bounded time, for its supervisor to restart it.
        first = not self.watchdog.armed
        super()._crash(reason)
        if first:
            logger.critical("component crashed (%r): stopping the worker", reason)
            self.watchdog.arm(f"crash: {type(reason).__name__}")
            worker = self.padit_worker
            if worker is not None:
                asyncio.get_event_loop().call_soon(worker.request_shutdown)


def create_app(settings: Settings) -> PaditApp:
    """The Faust app with its topics, tables, agents and views, built from ``settings``."""
    from padit_stream import agents, stream, views

    conf = settings.app
    app = PaditApp(
        conf.id,
        bulk_slice=conf.batch_size,
        shutdown_timeout=conf.shutdown_timeout_sec,
        broker=conf.broker,
        broker_credentials=faust_credentials(settings.kafka, where="kafka"),
        store="rocksdb://",
        datadir=str(conf.data_dir),
        autodiscover=False,
        origin="padit_stream",
        Worker=PaditWorker,
        # Topic keys and table keys must serialise the same way, or table_route asks the
        # wrong worker: both are the raw bytes of schema.metric_key.
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
        producer_max_batch_size=BATCH_BYTES,
        producer_linger_ms=5,
        logging_config=None,
    )
    built = stream.build(app, settings)
    app.padit = built
    app.sender = built.sender
    app.owned_topics = built.topics.all()
    app.on_bulk_flush(built.sender.flush)
    app.telemetry = _telemetry(built)
    app.telemetry.connect(app)
    agents.register(built)
    views.register(built)
    return app


def _telemetry(built: Any) -> StreamTelemetry:
    metrics = built.settings.metrics
    series = None
    if metrics.series_scores:
        lifecycle = built.lifecycle

        def alert_phase(partition: int, key: bytes) -> str | None:
            state = lifecycle.states.read(partition, key)
            return None if state is None else str(state.phase)

        series = SeriesExport(
            built.topics.features.get_topic_name(), metrics.max_series, alert_phase
        )
    return StreamTelemetry(built, series)


_app: PaditApp | None = None


def __getattr__(name: str) -> Any:
    # ``faust -A padit_stream.app`` reads the attribute ``app``: build it then, not on import.
    global _app
    if name == "app":
        if _app is None:
            _app = create_app(load_settings())
        return _app
    raise AttributeError(name)
