"""SNMP v2c / v3 (authPriv) poller on pysnmp 7 (asyncio): GET, BULKWALK and the ifTable.

Library: pysnmp 7.x, the maintained line of the classic pure-Python SNMP engine (the LeXtudio
fork that the ``pysnmp`` name now publishes; ``pysnmp-lextudio`` is its deprecated alias).
It is asyncio-native, implements v3 USM with SHA-2 and AES-256 without a C library, and
ships the SNMPv2 and USM MIBs it needs. ``puresnmp`` has seen no release since 2024;
``ezsnmp``/``easysnmp`` wrap the Net-SNMP C library and are blocking.

Metrics: each ``get`` object under its ``name``; each ``walk`` row as ``<name>.<suffix>``;
with ``interfaces``, ``if.<ifName>.<column>`` with ``ifIndex`` and ``ifName`` labels.
Counter32/Counter64 values become per-second rates (metric type ``rate``) from the second
probe on; a Counter32 that went down wrapped at 2^32; an agent restart (``sysUpTime`` went
down) gives no rates for that probe. ``snmp.uptime_sec`` is the agent's uptime. No answer
is ``error=timeout`` (also what a wrong v2c community looks like), a USM failure ``auth``,
an error status ``protocol``.
"""

from __future__ import annotations

import os
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adapters.base import Adapter, EndpointConfig, ProbeResult, Sample
from adapters.errors import ErrorKind, ProbeError
from adapters.snmp.oids import IF_COLUMNS, NAMES, CounterRates, resolve_oid

__all__ = ["SnmpAdapter", "SnmpEndpoint", "SnmpInterfaces", "SnmpObject", "SnmpV3"]

_UPTIME = NAMES["sysUpTime"] + ".0"
_AUTH_ERRORS = frozenset({
    "UnknownUserName", "WrongDigest", "DecryptionError", "UnsupportedSecurityLevel",
    "UnknownSecurityName", "AuthenticationFailure", "UnknownEngineID", "NotInTimeWindow",
})  # fmt: skip
_COUNTERS = {"Counter32": 32, "Counter64": 64}
_NUMBERS = frozenset({"Integer", "Integer32", "Gauge32", "Unsigned32", "TimeTicks"})


def _env_set(v: str | None) -> str | None:
    if v is not None and v not in os.environ:
        raise ValueError(f"environment variable {v} is not set")
    return v


class SnmpV3(BaseModel):
    """A USM user with authentication and privacy (authPriv); keys come from the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str = Field(min_length=1)
    auth_protocol: Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"] = "SHA"
    auth_key_env: str
    priv_protocol: Literal["DES", "3DES", "AES", "AES192", "AES256"] = "AES"
    priv_key_env: str

    _check_env = field_validator("auth_key_env", "priv_key_env")(_env_set)


class SnmpObject(BaseModel):
    """An OID (numeric or a known name) and the metric name for it (default: as written)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    oid: str
    name: str | None = None

    @field_validator("oid")
    @classmethod
    def _resolves(cls, v: str) -> str:
        resolve_oid(v)
        return v

    @property
    def numeric(self) -> str:
        return resolve_oid(self.oid)

    @property
    def metric(self) -> str:
        return self.name or self.oid


class SnmpInterfaces(BaseModel):
    """Interface table columns, per ifIndex, named by ``ifName`` (``ifDescr`` if empty)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: list[str] = Field(
        default_factory=lambda: [
            "ifHCInOctets",
            "ifHCOutOctets",
            "ifInErrors",
            "ifOutErrors",
            "ifInDiscards",
            "ifOutDiscards",
            "ifOperStatus",
        ],
        min_length=1,
    )

    @field_validator("columns")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if c not in IF_COLUMNS]
        if bad:
            raise ValueError(
                f"unknown interface columns {bad}; expected some of {sorted(IF_COLUMNS)}"
            )
        return v


class SnmpEndpoint(EndpointConfig):
    """One SNMP agent."""

    host: str = Field(min_length=1)
    port: int = Field(default=161, ge=1, le=65535)
    version: Literal["v2c", "v3"] = "v2c"
    #: v2c: env var holding the community (default community ``public``).
    community_env: str | None = None
    v3: SnmpV3 | None = None
    get: list[SnmpObject] = Field(default_factory=list)
    walk: list[SnmpObject] = Field(default_factory=list)
    interfaces: SnmpInterfaces | None = None
    max_repetitions: int = Field(default=25, ge=1, le=200)
    retries: int = Field(default=0, ge=0, le=5)

    _check_env = field_validator("community_env")(_env_set)

    @field_validator("interfaces", mode="before")
    @classmethod
    def _switch(cls, v: Any) -> Any:
        return {} if v is True else (None if v is False else v)

    @model_validator(mode="after")
    def _consistent(self) -> SnmpEndpoint:
        if self.version == "v3" and self.v3 is None:
            raise ValueError("version v3 needs a v3 section (user, auth_key_env, priv_key_env)")
        if self.version == "v2c" and self.v3 is not None:
            raise ValueError("a v3 section needs version: v3")
        if not (self.get or self.walk or self.interfaces):
            raise ValueError("nothing to poll: give get, walk or interfaces")
        return self


class SnmpAdapter(Adapter[SnmpEndpoint]):
    """Polls one agent.

    Example:
        >>> ep = SnmpAdapter.parse_endpoint({"id": "sw1", "host": "127.0.0.1",
        ...     "get": [{"oid": "sysUpTime.0"}], "interfaces": True})
        >>> ep.get[0].numeric, ep.interfaces.columns[0]
        ('1.3.6.1.2.1.1.3.0', 'ifHCInOctets')
    """

    name = "snmp"
    config_model = SnmpEndpoint
    protocol = "snmp"

    def __init__(self, config: SnmpEndpoint) -> None:
        super().__init__(config)
        self._rates = CounterRates()
        self._engine: Any = None
        self._auth: Any = None
        self._target: Any = None

    async def start(self) -> None:
        from pysnmp.hlapi.v3arch import asyncio as h

        cfg = self.config
        self._engine = h.SnmpEngine()
        if cfg.v3 is not None:
            v3 = cfg.v3
            self._auth = h.UsmUserData(
                v3.user,
                authKey=os.environ[v3.auth_key_env],
                privKey=os.environ[v3.priv_key_env],
                authProtocol={
                    "MD5": h.usmHMACMD5AuthProtocol,
                    "SHA": h.usmHMACSHAAuthProtocol,
                    "SHA224": h.usmHMAC128SHA224AuthProtocol,
                    "SHA256": h.usmHMAC192SHA256AuthProtocol,
                    "SHA384": h.usmHMAC256SHA384AuthProtocol,
                    "SHA512": h.usmHMAC384SHA512AuthProtocol,
                }[v3.auth_protocol],
                privProtocol={
                    "DES": h.usmDESPrivProtocol,
                    "3DES": h.usm3DESEDEPrivProtocol,
                    "AES": h.usmAesCfb128Protocol,
                    "AES192": h.usmAesCfb192Protocol,
                    "AES256": h.usmAesCfb256Protocol,
                }[v3.priv_protocol],
            )
        else:
            community = os.environ[cfg.community_env] if cfg.community_env else "public"
            self._auth = h.CommunityData(community, mpModel=1)
        self._target = await h.UdpTransportTarget.create(
            (cfg.host, cfg.port), timeout=cfg.timeout_sec or 5.0, retries=cfg.retries
        )

    async def cleanup(self, failed: bool) -> None:
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None

    @staticmethod
    def _check(err_ind: Any, err_status: Any, err_index: Any, what: str) -> None:
        if err_ind:
            name = type(err_ind).__name__
            kind: ErrorKind = "protocol"
            if name == "RequestTimedOut":
                kind = "timeout"
            elif name in _AUTH_ERRORS:
                kind = "auth"
            raise ProbeError(kind, f"{what}: {err_ind}")
        if err_status:
            raise ProbeError("protocol", f"{what}: {err_status.prettyPrint()} at {err_index}")

    async def _get(self, oids: list[str]) -> list[tuple[str, Any]]:
        from pysnmp.hlapi.v3arch import asyncio as h

        objs = [h.ObjectType(h.ObjectIdentity(o)) for o in oids]
        ind, status, index, vbs = await h.get_cmd(
            self._engine, self._auth, self._target, h.ContextData(), *objs
        )
        self._check(ind, status, index, "GET")
        return [(".".join(map(str, oid)), val) for oid, val in vbs]

    async def _walk(self, root: str) -> list[tuple[str, Any]]:
        from pysnmp.hlapi.v3arch import asyncio as h

        out: list[tuple[str, Any]] = []
        async for ind, status, index, vbs in h.bulk_walk_cmd(
            self._engine, self._auth, self._target, h.ContextData(), 0,
            self.config.max_repetitions, h.ObjectType(h.ObjectIdentity(root)),
            lexicographicMode=False,
        ):  # fmt: skip
            self._check(ind, status, index, f"BULKWALK {root}")
            out.extend((".".join(map(str, oid)), val) for oid, val in vbs)
        return out

    async def collect(self) -> list[ProbeResult]:
        if self._engine is None:
            await self.start()
        cfg = self.config
        objs = [o.numeric for o in cfg.get]
        got = await self._get([_UPTIME, *objs])
        now = time.time()
        samples: list[Sample] = []
        seen: set[str] = set()
        uptime = got[0][1]
        if type(uptime).__name__ == "TimeTicks":
            self._rates.agent_uptime(int(uptime))
            samples.append(Sample("snmp.uptime_sec", int(uptime) / 100, "s", timestamp=now))
        missing = []
        for obj, (oid, val) in zip(cfg.get, got[1:], strict=True):
            if not self._add(samples, seen, obj.metric, oid, val, {}, now):
                missing.append(obj.oid)
        for obj in cfg.walk:
            root = obj.numeric
            for oid, val in await self._walk(root):
                self._add(samples, seen, f"{obj.metric}.{oid[len(root) + 1 :]}", oid, val, {}, now)
        if cfg.interfaces is not None:
            await self._interfaces(cfg.interfaces, samples, seen, now)
        self._rates.forget_except(seen)
        if missing:
            return [ProbeResult(samples, error="protocol", detail=f"no such object: {missing}")]
        return [ProbeResult(samples)]

    async def _interfaces(
        self, opts: SnmpInterfaces, samples: list[Sample], seen: set[str], now: float
    ) -> None:
        names = {oid.rsplit(".", 1)[1]: str(v) for oid, v in await self._walk(NAMES["ifName"])}
        if not any(names.values()):
            names = {oid.rsplit(".", 1)[1]: str(v) for oid, v in await self._walk(NAMES["ifDescr"])}
        for column in opts.columns:
            for oid, val in await self._walk(NAMES[column]):
                idx = oid.rsplit(".", 1)[1]
                ifname = names.get(idx) or f"if{idx}"
                labels = {"ifIndex": idx, "ifName": ifname}
                self._add(samples, seen, f"if.{ifname}.{column}", oid, val, labels, now)

    def _add(
        self, samples: list[Sample], seen: set[str], metric: str, oid: str, val: Any,
        labels: dict[str, str], now: float,
    ) -> bool:  # fmt: skip
        """Append the sample for one varbind; False when the agent has no such object."""
        kind = type(val).__name__
        if kind in ("NoSuchObject", "NoSuchInstance", "EndOfMibView"):
            return False
        if kind in _COUNTERS:
            seen.add(oid)
            rate = self._rates.update(oid, int(val), _COUNTERS[kind], now)
            if rate is not None:
                samples.append(Sample(metric, rate, "1/s", "rate", labels, timestamp=now))
        elif kind in _NUMBERS:
            samples.append(Sample(metric, float(int(val)), labels=labels, timestamp=now))
        return True
