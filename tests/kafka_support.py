"""A real Apache Kafka broker for tests, run by tools/kafka/kafka.sh (jars fetched by Maven).

Each `KafkaBroker` owns a port picked by the OS and a data dir of its own, so test sessions
running side by side do not meet. `PADIT_TEST_BROKER` names a broker started elsewhere
(`make kafka-up`, CI) to reuse instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

REPO_ROOT = Path(__file__).resolve().parent.parent
KAFKA_SH = REPO_ROOT / "tools" / "kafka" / "kafka.sh"
# A cold Maven fetch is ~40 s on top of a broker start of ~8 s.
UP_TIMEOUT_S = 300.0


def existing_broker_from_env() -> str | None:
    """Bootstrap ("host:port") of an already running broker from PADIT_TEST_BROKER, if set."""
    value = os.environ.get("PADIT_TEST_BROKER", "").strip()
    if not value:
        return None
    return value.removeprefix("kafka://")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _kafka_sh(*args: str, timeout: float) -> None:
    # Output goes to the test's captured stdout/stderr; a failure carries the broker log tail.
    subprocess.run(["bash", str(KAFKA_SH), *args], check=True, timeout=timeout)


class KafkaBroker:
    """A single-node KRaft broker on 127.0.0.1; data survive `restart()`, not `stop()`'s cleanup."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None) -> None:
        self.port = port if port is not None else free_port()
        self._own_dir = data_dir is None
        self.dir = data_dir or Path(tempfile.mkdtemp(prefix="padit-kafka-"))
        self.running = False

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap}"

    def start(self) -> KafkaBroker:
        _kafka_sh("up", "--port", str(self.port), "--dir", str(self.dir), timeout=UP_TIMEOUT_S)
        self.running = True
        return self

    def down(self) -> None:
        """Stop the broker and keep its data dir (a later `start()` resumes it)."""
        _kafka_sh("down", "--dir", str(self.dir), timeout=60)
        self.running = False

    def restart(self) -> None:
        """Same port, same data: what clients see when a broker bounces mid-stream."""
        self.down()
        self.start()

    def stop(self) -> None:
        """Stop the broker; a data dir this object made is removed."""
        self.down()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def create_topic(
    bootstrap: str, name: str, partitions: int, replication_factor: int = 1
) -> None:
    """Create a topic and wait until the broker serves it; an existing one is left as it is."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=replication_factor)]
        )
        # aiokafka returns per-topic error codes instead of raising.
        for _topic, code, *_ in response.topic_errors:
            if code not in (0, TopicAlreadyExistsError.errno):
                raise for_code(code)(f"create_topic {name!r}")
        # The controller has committed the topic; the broker's metadata follows a moment later.
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            [topic] = await admin.describe_topics([name])
            if topic["error_code"] == 0 and topic["partitions"]:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"topic {name!r} not in metadata after 10 s: {topic}")
            await asyncio.sleep(0.05)
    finally:
        await admin.close()
