"""Prometheus exposition scrape: any exporter's ``/metrics`` as PADIT metrics.

Each probe GETs the URL (asking for OpenMetrics; plain text is parsed too), applies the
``relabel`` keep/drop rules, and maps what is left:

- gauges, untyped/unknown, info and stateset samples as they are;
- counters as per-second rates ``<name>:rate`` (from the second scrape; a reset skips one);
- summaries: the quantile samples as gauges, ``_sum``/``_count`` as rates;
- histograms: ``_sum``/``_count`` as rates, and either the chosen ``quantiles`` over the
  interval (``<family>:quantile{quantile="0.9"}``) or every bucket's rate
  (``<name>_bucket:rate{le="..."}``).

Label sets stay apart in the metric name (``node_load1``, ``x:rate{device="eth0"}``); the
labels also go on the record. The source is the value of ``source_label`` when a sample has
it (the label then leaves the name), else the endpoint's. ``scrape.samples`` and
``scrape.duration_ms`` describe the scrape; a non-200 answer or an unparsable body is
``up=0, error=protocol``.
"""

from __future__ import annotations

import math
import ssl
import time
from pathlib import Path
from typing import Literal

import httpx
from pydantic import Field, ValidationInfo, field_validator

from adapters.base import Adapter, EndpointConfig, MetricType, ProbeResult, Sample, resolve_path
from adapters.config import expand_env
from adapters.errors import ProbeError
from adapters.prom.exposition import OPENMETRICS, PromSample, RelabelRule, parse, relabel
from adapters.prom.exposition import series_name as _series
from adapters.prom.rates import CounterRates, bucket_quantile

__all__ = ["PromAdapter", "PromEndpoint", "RelabelRule"]

_ACCEPT_OM = f"{OPENMETRICS};version=1.0.0,{OPENMETRICS};version=0.0.1;q=0.75,text/plain;q=0.5"
_ACCEPT_TEXT = "text/plain;version=0.0.4"
_GAUGE_TYPES = frozenset({"gauge", "untyped", "unknown", "info", "stateset"})

_HistKey = tuple[str, str, tuple[tuple[str, str], ...]]


class PromEndpoint(EndpointConfig):
    """One scrape target."""

    url: str = Field(pattern=r"^https?://", description="the exporter's /metrics URL")
    openmetrics: bool = Field(default=True, description="ask for OpenMetrics first")
    headers: dict[str, str] = Field(default_factory=dict)
    verify_tls: bool = True
    ca_file: Path | None = None
    #: Take each sample's source from this label (e.g. ``instance``); default: the endpoint.
    source_label: str | None = None
    relabel: list[RelabelRule] = Field(default_factory=list)
    histogram: Literal["quantiles", "buckets"] = "quantiles"
    quantiles: list[float] = Field(default_factory=lambda: [0.5, 0.9, 0.99], min_length=1)
    #: A scrape with more samples (after relabel) fails: add keep rules instead.
    max_samples: int = Field(default=20_000, ge=1)

    @field_validator("quantiles")
    @classmethod
    def _in_range(cls, v: list[float]) -> list[float]:
        if not all(0 <= q <= 1 for q in v):
            raise ValueError("quantiles must be within [0, 1]")
        return v

    @field_validator("headers")
    @classmethod
    def _env_refs_exist(cls, v: dict[str, str]) -> dict[str, str]:
        for name, value in v.items():
            expand_env(value, where=f"header {name}")
        return v

    @field_validator("ca_file")
    @classmethod
    def _ca_exists(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        if v is not None:
            v = resolve_path(v, info)
            if not v.is_file():
                raise ValueError(f"CA file {v} does not exist")
        return v


class PromAdapter(Adapter[PromEndpoint]):
    """Scrapes a Prometheus/OpenMetrics endpoint.

    Example:
        >>> ep = PromAdapter.parse_endpoint({"id": "node", "url": "http://127.0.0.1:9100/metrics",
        ...     "relabel": [{"regex": "node_load1|node_network_.*"}]})
        >>> PromAdapter(ep).config.relabel[0].action
        'keep'
    """

    name = "prometheus"
    config_model = PromEndpoint
    protocol = "prometheus"

    def __init__(self, config: PromEndpoint) -> None:
        super().__init__(config)
        self._client: httpx.AsyncClient | None = None
        self._rates = CounterRates()

    async def start(self) -> None:
        cfg = self.config
        verify: ssl.SSLContext | bool = cfg.verify_tls
        if cfg.ca_file is not None and cfg.verify_tls:
            verify = ssl.create_default_context(cafile=str(cfg.ca_file))
        self._client = httpx.AsyncClient(verify=verify, timeout=cfg.timeout_sec or 10.0)

    async def cleanup(self, failed: bool) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def collect(self) -> list[ProbeResult]:
        if self._client is None:
            await self.start()
        assert self._client is not None
        cfg = self.config
        headers = {k: expand_env(v) for k, v in cfg.headers.items()}
        headers["Accept"] = _ACCEPT_OM if cfg.openmetrics else _ACCEPT_TEXT
        t0 = time.perf_counter()
        resp = await self._client.get(cfg.url, headers=headers)
        if resp.status_code != 200:
            raise ProbeError("protocol", f"{cfg.url}: status {resp.status_code}")
        now = time.time()
        ctype = resp.headers.get("content-type", "")
        try:
            parsed = parse(resp.text, ctype)
        except ValueError as exc:
            raise ProbeError("protocol", f"{cfg.url}: not a valid exposition: {exc}") from exc
        kept = relabel(parsed, cfg.relabel)
        if len(kept) > cfg.max_samples:
            raise ProbeError(
                "protocol", f"{cfg.url}: {len(kept)} samples > max_samples {cfg.max_samples}"
            )
        samples = self.map_samples(kept, now)
        # Stamped with the scrape time, the time the rates are computed at.
        samples.append(Sample("scrape.samples", float(len(kept)), timestamp=now))
        elapsed = (time.perf_counter() - t0) * 1e3
        samples.append(Sample("scrape.duration_ms", elapsed, "ms", timestamp=now))
        labels = {"format": "openmetrics" if ctype.startswith(OPENMETRICS) else "text"}
        samples.append(Sample("scrape.format", 1.0, labels=labels, timestamp=now))
        return [ProbeResult(samples)]

    def map_samples(self, kept: list[PromSample], now: float) -> list[Sample]:
        """Turn the kept exposition samples of one scrape at ``now`` into PADIT samples."""
        cfg = self.config
        out: list[Sample] = []
        seen: set[str] = set()
        hists: dict[_HistKey, list[tuple[float, float | None]]] = {}
        for s in kept:
            ftype = s.family_type
            if s.name.endswith("_created") and ftype in ("counter", "histogram", "summary"):
                continue
            labels = dict(s.labels)
            source = None
            if cfg.source_label is not None and cfg.source_label in labels:
                source = labels.pop(cfg.source_label)
            ts = s.timestamp if s.timestamp is not None else now

            def rate(name: str, lab: dict[str, str], src: str | None = source,
                     value: float = s.value, at: float = ts) -> float | None:  # fmt: skip
                key = f"{src}\0{_series(name, lab)}"
                seen.add(key)
                return self._rates.update(key, value, at)

            if ftype in _GAUGE_TYPES or (ftype == "summary" and "quantile" in labels):
                out.append(_sample(_series(s.name, labels), s.value, "gauge", labels, ts, source))
            elif ftype in ("histogram", "gaugehistogram") and s.name.endswith("_bucket"):
                le = labels.pop("le", "+Inf")
                r = rate(s.name, {**labels, "le": le})
                if cfg.histogram == "buckets":
                    if r is not None:
                        lab = {**labels, "le": le}
                        out.append(
                            _sample(_series(f"{s.name}:rate", lab), r, "rate", lab, ts, source)
                        )
                else:
                    key = (source or "", s.family, tuple(sorted(labels.items())))
                    hists.setdefault(key, []).append((_bound(le), r))
            elif ftype in ("counter", "histogram", "summary", "gaugehistogram"):
                r = rate(s.name, labels)
                if r is not None:
                    out.append(
                        _sample(_series(f"{s.name}:rate", labels), r, "rate", labels, ts, source)
                    )
        for (hsource, family, lab_items), buckets in hists.items():
            if any(r is None for _, r in buckets):
                continue
            lab = dict(lab_items)
            cum = [(b, r) for b, r in buckets if r is not None]
            for q in cfg.quantiles:
                value = bucket_quantile(q, cum)
                if value is not None:
                    qlab = {**lab, "quantile": f"{q:g}"}
                    out.append(_sample(_series(f"{family}:quantile", qlab), value, "gauge", qlab,
                                       now, hsource or None))  # fmt: skip
        self._rates.forget_except(seen)
        return out


def _bound(le: str) -> float:
    return math.inf if le in ("+Inf", "Inf", "inf") else float(le)


def _sample(
    name: str,
    value: float,
    mtype: MetricType,
    labels: dict[str, str],
    ts: float,
    source: str | None,
) -> Sample:
    return Sample(name, value, metric_type=mtype, labels=labels, timestamp=ts, source_id=source)
