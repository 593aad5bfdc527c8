"""Modbus/TCP poller (pymodbus 3.x): holding/input registers, coils and discrete inputs.

Each probe reads the endpoint's register map in as few requests as
:func:`~adapters.modbus.registers.plan_reads` allows (one at a time: many devices serve one
request per connection) and publishes one metric per entry, named by the entry, with
``modbus.requests`` and ``modbus.poll_ms``. A request that fails -- a Modbus exception
(``error=protocol``), no answer in time (``timeout``), a dropped connection -- becomes a
``modbus.read_error`` sample naming unit, table, address and exception code, and the
endpoint's ``up`` is 0 with that kind; the entries of the other requests are still published.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from pydantic import Field, model_validator

from adapters.base import Adapter, EndpointConfig, ProbeResult, Sample, classify_error
from adapters.errors import ErrorKind, ProbeError
from adapters.modbus.registers import Read, Register, decode, plan_reads

__all__ = ["ModbusAdapter", "ModbusEndpoint", "Register"]

log = logging.getLogger(__name__)

#: Modbus exception codes (the spec's names), for the log and the ``exception`` label.
EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


class ModbusEndpoint(EndpointConfig):
    """One Modbus/TCP device (or gateway) and its register map."""

    host: str = Field(min_length=1)
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255, description="default unit (slave) id")
    #: Unused registers a request may span to save a request (0: contiguous only).
    max_gap: int = Field(default=0, ge=0, le=124)
    registers: list[Register] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> ModbusEndpoint:
        seen: set[str] = set()
        for i, reg in enumerate(self.registers):
            if reg.name in seen:
                raise ValueError(f"registers[{i}]: name {reg.name!r} is used twice")
            seen.add(reg.name)
        return self


class ModbusAdapter(Adapter[ModbusEndpoint]):
    """Polls a register map over Modbus/TCP.

    Example:
        >>> ep = ModbusAdapter.parse_endpoint({"id": "plc", "host": "127.0.0.1", "registers": [
        ...     {"name": "temp", "address": 0, "type": "float32", "unit": "C"},
        ...     {"name": "rpm", "address": 2}]})
        >>> [(r.start, r.count) for r in ModbusAdapter(ep).reads]
        [(0, 3)]
    """

    name = "modbus"
    config_model = ModbusEndpoint
    protocol = "modbus"

    def __init__(self, config: ModbusEndpoint) -> None:
        super().__init__(config)
        self.reads = plan_reads(config.registers, config.unit_id, config.max_gap)
        self._client: Any = None

    async def start(self) -> None:
        from pymodbus.client import AsyncModbusTcpClient

        cfg = self.config
        # retries=0 and no background reconnect: the runner's schedule is the retry, and a
        # timeout must surface as one, not be hidden behind resends.
        self._client = AsyncModbusTcpClient(
            cfg.host, port=cfg.port, timeout=cfg.timeout_sec or 3.0, retries=0,
            reconnect_delay=0,
        )  # fmt: skip

    async def _connect(self) -> Any:
        if self._client is None:
            await self.start()
        client = self._client
        if not client.connected and not await client.connect():
            cfg = self.config
            raise ProbeError("refused", f"cannot connect to {cfg.host}:{cfg.port}")
        return client

    async def collect(self) -> list[ProbeResult]:
        client = await self._connect()
        t0 = time.perf_counter()
        results: list[ProbeResult] = []
        samples: list[Sample] = []
        for read in self.reads:
            try:
                words = await self._read(client, read)
            except ProbeError as exc:
                results.append(self._failed(read, exc.kind, exc.message))
                continue
            except Exception as exc:
                from pymodbus.exceptions import ModbusIOException

                # pymodbus reports "no response within the timeout" as an I/O error.
                kind: ErrorKind = (
                    "timeout" if isinstance(exc, ModbusIOException) else classify_error(exc)
                )
                results.append(self._failed(read, kind, str(exc)))
                if not client.connected:
                    break  # the rest would fail the same way; the next probe reconnects
                continue
            for reg in read.registers:
                at = reg.address - read.start
                value = decode(reg, words[at : at + reg.words])
                samples.append(Sample(reg.name, value, reg.unit))
        samples.append(Sample("modbus.requests", float(len(self.reads))))
        samples.append(Sample("modbus.poll_ms", (time.perf_counter() - t0) * 1e3, "ms"))
        return [ProbeResult(samples), *results]

    async def _read(self, client: Any, read: Read) -> list[int]:
        fn = {
            "holding": client.read_holding_registers,
            "input": client.read_input_registers,
            "coil": client.read_coils,
            "discrete": client.read_discrete_inputs,
        }[read.table]
        resp = await fn(read.start, count=read.count, device_id=read.unit)
        if resp.isError():
            code = int(getattr(resp, "exception_code", 0))
            raise ProbeError(
                "protocol", f"exception {code} ({EXCEPTION_NAMES.get(code, 'unknown')})"
            )
        if read.table in ("coil", "discrete"):
            return [int(b) for b in resp.bits[: read.count]]
        regs: list[int] = list(resp.registers)
        if len(regs) < read.count:
            raise ProbeError("protocol", f"{len(regs)} registers in reply, asked {read.count}")
        return regs

    def _failed(self, read: Read, kind: ErrorKind, detail: str) -> ProbeResult:
        where = f"unit {read.unit} {read.table} {read.start}+{read.count}"
        log.info("endpoint %s: %s: %s: %s", self.config.id, where, kind, detail)
        labels = {
            "unit_id": str(read.unit), "table": read.table, "address": str(read.start),
            "count": str(read.count), "error": str(kind),
        }  # fmt: skip
        if detail.startswith("exception "):
            labels["exception"] = detail.split()[1]
        return ProbeResult(
            [Sample("modbus.read_error", 1.0, labels=labels)],
            error=kind,
            detail=f"{where}: {detail}",
        )

    async def cleanup(self, failed: bool) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
