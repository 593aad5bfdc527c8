"""Reading a topic's partitions between offsets, without a consumer group.

For offline readers (``padit tune``) and the API's reads of small compacted topics: the
partitions come from the admin client, and every partition is positioned by an explicit
seek (an offset reset could land at the end instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from padit_stream.errors import PaditError

__all__ = ["TopicReadError", "open_consumer", "partitions_of"]


class TopicReadError(PaditError):
    """The broker cannot be reached, or the topic is not there."""


async def open_consumer(bootstrap: str, security: Mapping[str, Any]) -> Any:
    """A started ``AIOKafkaConsumer`` with no group and no auto-commit; stop it after use."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        **security,
    )
    try:
        await consumer.start()
    except Exception as exc:
        await consumer.stop()
        raise TopicReadError(f"cannot reach the broker at {bootstrap}: {exc!r}") from exc
    return consumer


async def partitions_of(bootstrap: str, topic: str, security: Mapping[str, Any]) -> list[Any]:
    """The topic's partitions (``TopicPartition``), in order."""
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security)
    try:
        await admin.start()
        [desc] = await admin.describe_topics([topic])
    except Exception as exc:
        raise TopicReadError(f"cannot describe topic {topic!r} at {bootstrap}: {exc!r}") from exc
    finally:
        await admin.close()
    if desc.get("error_code", 0) != 0 or not desc.get("partitions"):
        raise TopicReadError(f"topic {topic!r} does not exist on the broker at {bootstrap}")
    numbers = sorted(p["partition"] for p in desc["partitions"])
    return [TopicPartition(topic, n) for n in numbers]
