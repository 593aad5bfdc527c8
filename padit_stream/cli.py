"""The ``padit`` command: ``worker`` (the Faust worker), ``tail``, ``eval``.

``padit worker ...`` and ``python -m padit_stream worker ...`` take Faust's worker options
(``-l info``, ``--web-port``); everything else is PADIT's own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

_KINDS = ("metrics", "features", "anomalies", "alerts", "deadletter")


async def _tail(kind: str, from_beginning: bool, limit: int | None) -> None:
    from aiokafka import AIOKafkaConsumer

    from padit_stream.security import aiokafka_kwargs
    from padit_stream.settings import load_settings

    settings = load_settings()
    topic = settings.topics.name(kind)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.app.broker.removeprefix("kafka://").replace(";", ","),
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False,
        **aiokafka_kwargs(settings.kafka),
    )
    await consumer.start()
    seen = 0
    try:
        async for msg in consumer:
            key = (msg.key or b"").decode(errors="replace")
            value = (msg.value or b"").decode(errors="replace")
            headers = "".join(f" {k}={v.decode(errors='replace')}" for k, v in msg.headers)
            sys.stdout.write(f"{key}\t{value}{headers}\n")
            sys.stdout.flush()
            seen += 1
            if limit is not None and seen >= limit:
                break
    finally:
        await consumer.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``padit``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("worker", "agents", "tables", "send", "model", "models"):
        from padit_stream.app import create_app
        from padit_stream.errors import ConfigError
        from padit_stream.settings import load_settings

        sys.argv = ["padit", *args]
        try:
            app = create_app(load_settings())
        except ConfigError as exc:
            sys.stderr.write(f"padit: {exc}\n")
            return 2
        app.main()
        return 0
    if args[0] == "eval":
        from padit_stream.evaluation.cli import main as eval_main

        code: int = eval_main(args[1:])
        return code
    parser = argparse.ArgumentParser(prog="padit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    tail = sub.add_parser("tail", help="print records of a PADIT topic as they arrive")
    tail.add_argument("kind", choices=_KINDS)
    tail.add_argument("--from-beginning", action="store_true")
    tail.add_argument("-n", "--limit", type=int, default=None)
    sub.add_parser("worker", help="run a Faust worker (Faust's options follow)")
    sub.add_parser("eval", help="offline evaluation: padit eval nab --help")
    ns = parser.parse_args(args)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_tail(ns.kind, ns.from_beginning, ns.limit))
    return 0
