"""Session fixtures: one real Kafka broker for the whole test run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka_support import KafkaBroker, existing_broker_from_env

NAB_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "nab"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """``host:port`` of a real broker: ``PADIT_TEST_BROKER`` if set, else one started here."""
    existing = existing_broker_from_env()
    if existing:
        yield existing
        return
    broker = KafkaBroker().start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()
