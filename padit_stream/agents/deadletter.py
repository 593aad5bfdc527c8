"""Sending what cannot be processed to the dead-letter topic, original bytes intact."""

from __future__ import annotations

import logging
from typing import Any

from padit_stream.topics import dead_letter_topic

__all__ = ["dead_letter"]

logger = logging.getLogger(__name__)


def dead_letter(message: Any, reason: str, stage: str) -> None:
    """Forward a record's key and value unchanged; the reason travels in headers.

    ``message`` is a Faust message or a raw record (topic, partition, offset, key, value).
    """
    logger.warning(
        "dead-letter from %s[%d]@%d (%s): %s",
        message.topic,
        message.partition,
        message.offset,
        stage,
        reason,
    )
    dead_letter_topic.send_soon(
        key=message.key,
        value=message.value,
        headers=[
            ("padit-reason", reason.encode()),
            ("padit-stage", stage.encode()),
            ("padit-topic", message.topic.encode()),
            ("padit-partition", str(message.partition).encode()),
            ("padit-offset", str(message.offset).encode()),
        ],
    )
