"""``padit-adapters``: run, check or list adapters.

padit-adapters run config/adapters.yaml [--broker kafka://127.0.0.1:9092] [--topic T]
                   [--metrics-listen 127.0.0.1:9465 | off]
padit-adapters check config/adapters.yaml
padit-adapters list [--plugin-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from adapters.config import AdaptersConfig, load_config
from adapters.errors import AdapterConfigError, AdapterError
from adapters.registry import AdapterRegistry
from adapters.runner import DEFAULT_BROKER, DEFAULT_TOPIC, KafkaPublisher, Runner
from adapters.selfmetrics import AdapterMetrics, parse_listen
from padit_stream.security import aiokafka_kwargs, security_from_env

__all__ = ["main"]

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="padit-adapters", description="Run, check or list PADIT adapters."
    )
    p.add_argument("--log-level", default=os.environ.get("PADIT_LOG_LEVEL", "INFO"))
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="probe the endpoints of CONFIG and publish to Kafka")
    run.add_argument("config", type=Path)
    run.add_argument(
        "--broker",
        default=os.environ.get("PADIT_BROKER", DEFAULT_BROKER),
        help="Kafka bootstrap, host:port or kafka://host:port (env PADIT_BROKER)",
    )
    run.add_argument("--topic", default=DEFAULT_TOPIC, help="metrics topic")
    run.add_argument("--concurrency", type=int, default=32, help="probes in flight at once")
    run.add_argument(
        "--metrics-listen",
        default=os.environ.get("PADIT_ADAPTER_METRICS", "127.0.0.1:9465"),
        help="HOST:PORT of this process's Prometheus /metrics, or off (env PADIT_ADAPTER_METRICS)",
    )
    check = sub.add_parser("check", help="validate CONFIG and exit")
    check.add_argument("config", type=Path)
    lst = sub.add_parser("list", help="list the adapters found")
    lst.add_argument("--plugin-dir", type=Path)
    return p


async def _run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    listen = parse_listen(args.metrics_listen)
    metrics = AdapterMetrics()
    if listen is not None:
        port = metrics.serve(*listen)
        log.info("metrics on http://%s:%d/metrics", listen[0], port)
    try:
        return await _run_with(args, cfg, metrics)
    finally:
        metrics.close()


async def _run_with(args: argparse.Namespace, cfg: AdaptersConfig, metrics: AdapterMetrics) -> int:
    loop = asyncio.get_running_loop()
    # TLS/SASL from the PADIT_KAFKA_* variables, as the stream job reads them.
    security = aiokafka_kwargs(security_from_env(), where="PADIT_KAFKA_*")
    async with KafkaPublisher(
        args.broker, args.topic, on_delivery_error=metrics.publish_errors.inc, **security
    ) as pub:
        runner = Runner(
            cfg.endpoints, pub.publish, max_concurrency=args.concurrency, metrics=metrics
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, runner.stop)
        log.info(
            "running %d endpoint(s) from %s into %s topic %s",
            len(cfg.endpoints), args.config, pub.bootstrap, pub.topic,
        )  # fmt: skip
        try:
            stats = await runner.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        # Leaving the publisher's context flushes what is still buffered.
    log.info(
        "stopped: %d probes, %d failed, %d records published, %d publish errors, "
        "%d delivery errors",
        stats.probes, stats.failures, stats.records, stats.publish_errors, pub.delivery_errors,
    )  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``padit-adapters`` and ``python -m adapters``."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "run":
            return asyncio.run(_run(args))
        if args.command == "check":
            cfg = load_config(args.config)
            sys.stdout.write(f"{args.config}: OK, {len(cfg.endpoints)} endpoint(s)\n")
            return 0
        reg = AdapterRegistry(args.plugin_dir)
        for name in reg.names():
            sys.stdout.write(f"{name}\t{reg.origin(name)}\n")
        return 0
    except AdapterConfigError as exc:
        sys.stderr.write(f"padit-adapters: config error: {exc}\n")
        return 2
    except AdapterError as exc:
        sys.stderr.write(f"padit-adapters: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
