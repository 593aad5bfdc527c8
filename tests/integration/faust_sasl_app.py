"""A minimal Faust app whose broker credentials come from ``padit_stream.security``.

Run by tests/integration/test_kafka_security.py as
``python -m tests.integration.faust_sasl_app worker ...``: one agent counts the records of
``SASL_TEST_IN`` per key in a table (so a changelog topic is written too) and sends each new
count to ``SASL_TEST_OUT``. Connection settings come from ``PADIT_BROKER`` and the
``PADIT_KAFKA_*`` variables, as the stream job's would.
"""

from __future__ import annotations

import os

import faust
from faust.types import StreamT

from padit_stream.security import faust_credentials, security_from_env

app = faust.App(
    os.environ["SASL_TEST_APP_ID"],
    broker=os.environ["PADIT_BROKER"],
    broker_credentials=faust_credentials(security_from_env()),
    store="memory://",
    datadir=os.environ["SASL_TEST_DATA_DIR"],
    topic_partitions=2,
    topic_replication_factor=1,
    key_serializer="raw",
    value_serializer="raw",
    web_enabled=True,
    logging_config=None,
)
source = app.topic(os.environ["SASL_TEST_IN"], partitions=2)
sink = app.topic(os.environ["SASL_TEST_OUT"], partitions=1)
counts = app.Table("counts", default=int, partitions=2)


@app.agent(source)
async def count(stream: StreamT[bytes]) -> None:
    async for key, _value in stream.items():
        counts[key] += 1
        await sink.send(key=key, value=str(counts[key]).encode())


if __name__ == "__main__":
    app.main()
