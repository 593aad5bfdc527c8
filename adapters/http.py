"""HTTP(S) probe: latency and its phases, status, size and certificate expiry.

Metrics per probe (``protocol="http"``): ``latency_ms`` (request start to body read),
``connect_ms``, ``tls_handshake_ms`` (https), ``ttfb_ms`` (request sent to response headers,
i.e. the server's wait), ``status_code``, ``response_bytes``, ``tls_cert_days_left`` (https),
and ``up``. An unexpected status keeps the measurements but sets ``up=0, error=protocol``.

Each probe opens a new connection (no keep-alive) so that connect and TLS are measured
every time, as a user arriving fresh would see them.
"""

from __future__ import annotations

import functools
import re
import ssl
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import Field, ValidationInfo, field_validator

from adapters.base import Adapter, EndpointConfig, ProbeResult, Sample, resolve_path
from adapters.config import expand_env

__all__ = ["HttpAdapter", "HttpEndpoint", "cert_days_left"]

_ENV_REF = re.compile(r"\$\{([^}]*)\}")


class HttpEndpoint(EndpointConfig):
    """One URL to probe.

    Header values may reference environment variables (``Authorization: "Bearer ${TOKEN}"``);
    they are checked at start-up and expanded at each request.
    """

    url: str = Field(pattern=r"^https?://", description="http:// or https:// URL")
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    expected_status: list[int] = Field(default_factory=lambda: [200], min_length=1)
    verify_tls: bool = True
    #: CA bundle (PEM) to verify the server with, instead of the system store.
    ca_file: Path | None = None
    follow_redirects: bool = False

    @field_validator("expected_status", mode="before")
    @classmethod
    def _one_status(cls, v: Any) -> Any:
        return [v] if isinstance(v, int) else v

    @field_validator("headers")
    @classmethod
    def _env_refs_exist(cls, v: dict[str, str]) -> dict[str, str]:
        for name, value in v.items():
            expand_env(value, where=f"header {name}")  # raises ValueError naming the variable
        return v

    @field_validator("ca_file")
    @classmethod
    def _ca_exists(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        if v is not None:
            v = resolve_path(v, info)
        if v is not None and not v.is_file():
            raise ValueError(f"CA file {v} does not exist")
        return v


def cert_days_left(der: bytes, now: float | None = None) -> float:
    """Days until a DER certificate's ``notAfter`` (negative once expired)."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    ref = datetime.now(UTC) if now is None else datetime.fromtimestamp(now, UTC)
    return (not_after - ref).total_seconds() / 86400.0


@functools.lru_cache(maxsize=32)
def _ssl_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    # Loading a CA bundle costs ~30 ms of CPU: endpoints with the same trust share a context
    # (an SSLContext is safe to share between connections).
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if ca_file is not None:
        return ssl.create_default_context(cafile=ca_file)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class HttpAdapter(Adapter[HttpEndpoint]):
    """Probes one URL per endpoint with httpx.

    Example:
        >>> ep = HttpAdapter.parse_endpoint({"id": "api", "url": "http://127.0.0.1:1/health"})
        >>> HttpAdapter(ep).config.expected_status
        [200]
    """

    name = "http"
    config_model = HttpEndpoint
    protocol = "http"

    def __init__(self, config: HttpEndpoint) -> None:
        super().__init__(config)
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        cfg = self.config
        self._client = httpx.AsyncClient(
            verify=_ssl_context(cfg.verify_tls, str(cfg.ca_file) if cfg.ca_file else None),
            timeout=cfg.timeout_sec or 10.0,
            follow_redirects=cfg.follow_redirects,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def cleanup(self, failed: bool) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def collect(self) -> list[ProbeResult]:
        if self._client is None:
            await self.start()
        assert self._client is not None
        cfg = self.config
        marks: dict[str, float] = {}
        peer_der: list[bytes] = []

        async def trace(event: str, info: dict[str, Any]) -> None:
            marks[event] = time.perf_counter()
            if event == "connection.start_tls.complete":
                stream = info.get("return_value")
                ssl_obj = stream.get_extra_info("ssl_object") if stream is not None else None
                der = ssl_obj.getpeercert(binary_form=True) if ssl_obj is not None else None
                if der:
                    peer_der.append(der)

        headers = {k: expand_env(v) for k, v in cfg.headers.items()}
        t0 = time.perf_counter()
        resp = await self._client.request(
            cfg.method, cfg.url, headers=headers, content=cfg.body, extensions={"trace": trace}
        )
        body = await resp.aread()
        t_end = time.perf_counter()

        samples = [
            Sample("latency_ms", (t_end - t0) * 1e3, "ms"),
            Sample("status_code", float(resp.status_code)),
            Sample("response_bytes", float(len(body)), "bytes"),
        ]

        def phase(metric: str, start: str, end: str) -> None:
            if start in marks and end in marks:
                samples.append(Sample(metric, (marks[end] - marks[start]) * 1e3, "ms"))

        phase("connect_ms", "connection.connect_tcp.started", "connection.connect_tcp.complete")
        phase("tls_handshake_ms", "connection.start_tls.started", "connection.start_tls.complete")
        phase(
            "ttfb_ms",
            "http11.send_request_headers.started",
            "http11.receive_response_headers.complete",
        )
        phase(
            "ttfb_ms",
            "http2.send_request_headers.started",
            "http2.receive_response_headers.complete",
        )
        if peer_der:
            samples.append(Sample("tls_cert_days_left", cert_days_left(peer_der[0]), "days"))
        if resp.status_code not in cfg.expected_status:
            return [
                ProbeResult(
                    samples,
                    error="protocol",
                    detail=f"status {resp.status_code}, expected {cfg.expected_status}",
                )
            ]
        return [ProbeResult(samples)]
