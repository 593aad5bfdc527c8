"""O-RAN fronthaul probes for one radio unit: NETCONF, UDP echo, eCPRI delay, CFM loopback.

Each enabled sub-probe runs concurrently and reports its own ``<probe>.up``; one failing
(say, CFM without CAP_NET_RAW) never hides the others' measurements.

Metrics: ``netconf.rpc_ms``, ``if.<ifname>.<counter>`` (rates), ``pm.*`` (O-RAN PM),
``notif.<name>``; ``udp_echo.rtt_ms``/``rtt_max_ms``/``loss_ratio``;
``ecpri.one_way_delay_us``/``one_way_delay_max_us``/``loss_ratio``; ``lbm.rtt_ms``/``rtt_max_ms``/
``loss_ratio``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from adapters.base import Adapter, EndpointConfig, ProbeResult, Sample, guarded, resolve_path
from adapters.oran.cfm import lbm_probe, mac_bytes
from adapters.oran.ecpri import ecpri_one_way_delay
from adapters.oran.netconf import NetconfOptions, NetconfPoller
from adapters.oran.udp_echo import udp_echo

__all__ = [
    "EcpriOptions",
    "LbmOptions",
    "OranAdapter",
    "OranEndpoint",
    "UdpEchoOptions",
]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(default=5, ge=1, le=256)
    interval_ms: float = Field(default=10.0, ge=0)
    wait_ms: float = Field(default=1000.0, gt=0, description="how long to wait for replies")


class UdpEchoOptions(_Options):
    port: int = Field(default=7, ge=1, le=65535)
    size: int = Field(default=64, ge=12, le=9000)


class EcpriOptions(_Options):
    port: int = Field(ge=1, le=65535)
    #: tCV1, the sender's compensation value in nanoseconds.
    compensation_ns: float = Field(default=0.0, ge=0)


class LbmOptions(_Options):
    interface: str = Field(min_length=1)
    target_mac: str
    md_level: int = Field(default=0, ge=0, le=7)

    @field_validator("target_mac")
    @classmethod
    def _mac(cls, v: str) -> str:
        mac_bytes(v)
        return v


def _switch(v: Any) -> Any:
    # ``udp_echo: true`` means "on with defaults", ``false`` means off.
    if v is True:
        return {}
    if v is False:
        return None
    return v


class OranEndpoint(EndpointConfig):
    """One O-RAN radio unit (or any node speaking these protocols)."""

    host: str = Field(min_length=1)
    port: int = Field(default=830, ge=1, le=65535, description="NETCONF over SSH port")
    username: str = "root"
    key_file: Path | None = None
    password_env: str | None = Field(default=None, description="env var holding a password")
    hostkey_verify: bool = True
    netconf: NetconfOptions | None = None
    udp_echo: UdpEchoOptions | None = None
    ecpri: EcpriOptions | None = None
    lbm: LbmOptions | None = None

    @field_validator("netconf", "udp_echo", mode="before")
    @classmethod
    def _switches(cls, v: Any) -> Any:
        return _switch(v)

    @field_validator("ecpri", "lbm", mode="before")
    @classmethod
    def _switches_with_required(cls, v: Any) -> Any:
        if v is True:
            raise ValueError("needs its options (ecpri: port; lbm: interface, target_mac)")
        return _switch(v)

    @field_validator("key_file")
    @classmethod
    def _key_path(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        return resolve_path(v, info) if v is not None else None

    @model_validator(mode="after")
    def _something_enabled(self) -> OranEndpoint:
        if not (self.netconf or self.udp_echo or self.ecpri or self.lbm):
            raise ValueError("enable at least one of netconf, udp_echo, ecpri, lbm")
        if self.netconf and self.key_file is None and self.password_env is None:
            raise ValueError("netconf needs key_file or password_env")
        if self.key_file is not None and not self.key_file.is_file():
            raise ValueError(f"key_file {self.key_file} does not exist")
        return self


def _summary(probe: str, measure: str, values: list[float], unit: str, loss: float) -> list[Sample]:
    # e.g. udp_echo.rtt_ms, udp_echo.rtt_max_ms, udp_echo.loss_ratio
    return [
        Sample(f"{probe}.{measure}_{unit}", sum(values) / len(values), unit),
        Sample(f"{probe}.{measure}_max_{unit}", max(values), unit),
        Sample(f"{probe}.loss_ratio", loss, "ratio"),
    ]


class OranAdapter(Adapter[OranEndpoint]):
    """Probes one O-RAN unit with the enabled fronthaul/management protocols.

    Example:
        >>> ep = OranAdapter.parse_endpoint(
        ...     {"id": "ru1", "host": "127.0.0.1", "udp_echo": {"port": 7, "count": 3}})
        >>> OranAdapter(ep).config.udp_echo.count
        3
    """

    name = "oran-cfm"
    config_model = OranEndpoint
    protocol = "oran"

    def __init__(self, config: OranEndpoint) -> None:
        super().__init__(config)
        self._poller: NetconfPoller | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        if config.netconf is not None:
            self._poller = NetconfPoller(
                host=config.host,
                port=config.port,
                username=config.username,
                key_file=str(config.key_file) if config.key_file else None,
                password_env=config.password_env,
                hostkey_verify=config.hostkey_verify,
                options=config.netconf,
                timeout=config.timeout_sec or 10.0,
            )

    async def collect(self) -> list[ProbeResult]:
        cfg = self.config
        probes: list[Awaitable[ProbeResult]] = []
        if cfg.netconf is not None:
            probes.append(guarded("netconf", self._netconf()))
        if cfg.udp_echo is not None:
            probes.append(guarded("udp_echo", self._udp_echo(cfg.udp_echo)))
        if cfg.ecpri is not None:
            probes.append(guarded("ecpri", self._ecpri(cfg.ecpri)))
        if cfg.lbm is not None:
            probes.append(guarded("lbm", self._lbm(cfg.lbm)))
        return list(await asyncio.gather(*probes))

    async def _netconf(self) -> list[Sample]:
        assert self._poller is not None
        if self._executor is None:
            # One thread per unit: an ncclient manager must not be used concurrently, and a
            # hung session then blocks only its own unit.
            self._executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix=f"netconf-{self.config.id}"
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._poller.poll)

    async def _udp_echo(self, o: UdpEchoOptions) -> list[Sample]:
        st = await udp_echo(
            self.config.host,
            o.port,
            count=o.count,
            interval=o.interval_ms / 1e3,
            wait_sec=o.wait_ms / 1e3,
            size=o.size,
        )
        return _summary("udp_echo", "rtt", st.rtts_ms, "ms", st.loss_ratio)

    async def _ecpri(self, o: EcpriOptions) -> list[Sample]:
        st = await ecpri_one_way_delay(
            self.config.host,
            o.port,
            count=o.count,
            interval=o.interval_ms / 1e3,
            wait_sec=o.wait_ms / 1e3,
            compensation_ns=o.compensation_ns,
        )
        return _summary(
            "ecpri", "one_way_delay", [d / 1e3 for d in st.delays_ns], "us", st.loss_ratio
        )

    async def _lbm(self, o: LbmOptions) -> list[Sample]:
        st = await lbm_probe(
            o.interface,
            o.target_mac,
            md_level=o.md_level,
            count=o.count,
            interval=o.interval_ms / 1e3,
            wait_sec=o.wait_ms / 1e3,
        )
        return _summary("lbm", "rtt", st.rtts_ms, "ms", st.loss_ratio)

    async def cleanup(self, failed: bool) -> None:
        if self._poller is not None:
            await asyncio.to_thread(self._poller.close)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
