"""The adapters process's own metrics, in Prometheus exposition format (prometheus-client).

``padit_adapter_probe_duration_seconds{adapter,endpoint}`` (histogram of probe times),
``padit_adapter_probes_total{adapter,endpoint,outcome}`` (``ok`` or the error kind; streaming
adapters count each ``up`` they report), ``padit_adapter_records_total`` and
``padit_adapter_publish_errors_total`` (a send that raised or a delivery Kafka refused).
Each process has its own registry, served by :meth:`AdapterMetrics.serve`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from adapters.errors import AdapterError, ErrorKind

__all__ = ["AdapterMetrics", "parse_listen"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def parse_listen(text: str) -> tuple[str, int] | None:
    """``HOST:PORT`` (or ``off``) for ``--metrics-listen``.

    Example:
        >>> parse_listen("127.0.0.1:9465"), parse_listen("off")
        (('127.0.0.1', 9465), None)
    """
    if text.strip().lower() in ("off", "none", ""):
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise AdapterError(f"--metrics-listen {text!r}: expected HOST:PORT or off")
    return host or "127.0.0.1", int(port)


class AdapterMetrics:
    """Counters and histograms of one adapters process.

    Example:
        >>> m = AdapterMetrics()
        >>> m.probe_done("http", "api", 0.12, "ok")
        >>> labels = {"adapter": "http", "endpoint": "api", "outcome": "ok"}
        >>> m.registry.get_sample_value("padit_adapter_probes_total", labels)
        1.0
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.probe_duration = Histogram(
            "padit_adapter_probe_duration_seconds",
            "Time of one probe (start and collect), by adapter and endpoint.",
            ["adapter", "endpoint"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.probes = Counter(
            "padit_adapter_probes",
            "Probes (streaming adapters: up reports) by outcome: ok or the error kind.",
            ["adapter", "endpoint", "outcome"],
            registry=self.registry,
        )
        self.records = Counter(
            "padit_adapter_records", "Records handed to the publisher.", registry=self.registry
        )
        self.publish_errors = Counter(
            "padit_adapter_publish_errors",
            "Records whose send raised or whose delivery failed.",
            registry=self.registry,
        )
        self._server: Any = None

    def probe_done(self, adapter: str, endpoint: str, seconds: float | None, outcome: str) -> None:
        if seconds is not None:
            self.probe_duration.labels(adapter, endpoint).observe(seconds)
        self.probes.labels(adapter, endpoint, outcome).inc()

    def up_hook(self, adapter: str, endpoint: str) -> Callable[[bool, ErrorKind | None], None]:
        """A streaming adapter's ``on_up``: each ``up`` it reports counts as a probe."""

        def counted(ok: bool, error: ErrorKind | None) -> None:
            self.probe_done(adapter, endpoint, None, "ok" if ok else str(error or "internal"))

        return counted

    def serve(self, host: str, port: int) -> int:
        """Serve ``/metrics`` over HTTP from a daemon thread; returns the bound port."""
        from prometheus_client import start_http_server

        try:
            server, _thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise AdapterError(f"cannot serve /metrics on {host}:{port}: {exc}") from exc
        self._server = server
        return int(server.server_address[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
