"""A real Apache Kafka broker for tests, run by tools/kafka/kafka.sh (jars fetched by Maven).

Each `KafkaBroker` owns a port picked by the OS and a data dir of its own, so test sessions
running side by side do not meet. `PADIT_TEST_BROKER` names a broker started elsewhere
(`make kafka-up`, CI) to reuse instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
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


def _kafka_sh(*args: str, timeout: float, env: dict[str, str] | None = None) -> None:
    # Output goes to the test's captured stdout/stderr; a failure carries the broker log tail.
    subprocess.run(["bash", str(KAFKA_SH), *args], check=True, timeout=timeout, env=env)


class KafkaBroker:
    """A single-node KRaft broker on 127.0.0.1; data survive `restart()`, not `stop()`'s cleanup.

    With ``sasl_ssl=True`` it also listens with SASL_SSL (SCRAM-SHA-512, a certificate from a
    test CA) on `sasl_bootstrap`; clients trust `ca_file` and log in as `username`/`password`.
    The PLAINTEXT listener (`bootstrap`) stays, for setup and checks from the test itself.
    """

    def __init__(
        self,
        port: int | None = None,
        data_dir: Path | None = None,
        *,
        sasl_ssl: bool = False,
        username: str = "padit",
        password: str | None = None,
    ) -> None:
        self.port = port if port is not None else free_port()
        self._own_dir = data_dir is None
        self.dir = data_dir or Path(tempfile.mkdtemp(prefix="padit-kafka-"))
        self.running = False
        self.sasl_ssl = sasl_ssl
        self.username = username
        # kafka.sh makes a random one when none is given; `start()` reads it back.
        self.password = password or ""
        self.sasl_port: int | None = None
        self.sasl_mechanism = "SCRAM-SHA-512"

    @property
    def sasl_bootstrap(self) -> str:
        if self.sasl_port is None:
            raise RuntimeError("no SASL_SSL listener: KafkaBroker(sasl_ssl=True).start() first")
        return f"127.0.0.1:{self.sasl_port}"

    @property
    def ca_file(self) -> Path:
        """PEM certificate of the test CA that signed the broker's certificate."""
        return self.dir / "ca.pem"

    def _read_sasl_env(self) -> None:
        values = dict(
            line.split("=", 1)
            for line in (self.dir / "sasl_ssl.env").read_text().splitlines()
            if "=" in line
        )
        self.sasl_port = int(values["KAFKA_SASL_BOOTSTRAP"].rsplit(":", 1)[1])
        self.sasl_mechanism = values["KAFKA_SASL_MECHANISM"]
        self.username = values["KAFKA_SASL_USERNAME"]
        self.password = values["KAFKA_SASL_PASSWORD"]

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap}"

    def start(self) -> KafkaBroker:
        args = ["up", "--port", str(self.port), "--dir", str(self.dir)]
        env = None
        if self.sasl_ssl:
            args.append("--sasl-ssl")
            if self.sasl_port is not None:  # a restart keeps the port clients know
                args += ["--sasl-port", str(self.sasl_port)]
            # Only used when the data dir is formatted, i.e. on the first start.
            env = {**os.environ, "KAFKA_SASL_USERNAME": self.username}
            if self.password:
                env["KAFKA_SASL_PASSWORD"] = self.password
        _kafka_sh(*args, timeout=UP_TIMEOUT_S, env=env)
        if self.sasl_ssl:
            self._read_sasl_env()
        self.running = True
        return self

    def down(self) -> None:
        """Stop the broker and keep its data dir (a later `start()` resumes it)."""
        _kafka_sh("down", "--dir", str(self.dir), timeout=60)
        self.running = False

    def pid(self) -> int:
        """The broker's JVM (found by its config file on the command line)."""
        marker = f"kafka.Kafka {self.dir}/server.properties".encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if marker in (proc / "cmdline").read_bytes().replace(b"\0", b" "):
                    return int(proc.name)
            except OSError:
                continue
        raise RuntimeError(f"no broker running from {self.dir}")

    def freeze(self) -> None:
        """SIGSTOP the broker: connections stay open and nothing answers (a hung broker)."""
        os.kill(self.pid(), signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid(), signal.SIGCONT)

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
