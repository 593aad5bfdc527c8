"""OIDs by number or by name, and SNMP counters to rates with wrap handling.

Pure code. Names come from a built-in table of the SNMPv2-MIB system group and the IF-MIB
interface columns (compiling MIBs would mean fetching them); anything else is given as a
numeric OID. A Counter32 that went down wrapped once at 2^32, unless the agent restarted
(``sysUpTime`` went down), which drops every counter's history instead.
"""

from __future__ import annotations

import re

__all__ = ["IF_COLUMNS", "NAMES", "CounterRates", "resolve_oid"]

_SYS = "1.3.6.1.2.1.1"
_IF = "1.3.6.1.2.1.2.2.1"
_IFX = "1.3.6.1.2.1.31.1.1.1"

#: Name -> OID (objects without their instance suffix).
NAMES: dict[str, str] = {
    "sysDescr": f"{_SYS}.1", "sysObjectID": f"{_SYS}.2", "sysUpTime": f"{_SYS}.3",
    "sysContact": f"{_SYS}.4", "sysName": f"{_SYS}.5", "sysLocation": f"{_SYS}.6",
    "ifNumber": "1.3.6.1.2.1.2.1",
    "ifIndex": f"{_IF}.1", "ifDescr": f"{_IF}.2", "ifType": f"{_IF}.3", "ifMtu": f"{_IF}.4",
    "ifSpeed": f"{_IF}.5", "ifAdminStatus": f"{_IF}.7", "ifOperStatus": f"{_IF}.8",
    "ifInOctets": f"{_IF}.10", "ifInUcastPkts": f"{_IF}.11", "ifInDiscards": f"{_IF}.13",
    "ifInErrors": f"{_IF}.14", "ifOutOctets": f"{_IF}.16", "ifOutUcastPkts": f"{_IF}.17",
    "ifOutDiscards": f"{_IF}.19", "ifOutErrors": f"{_IF}.20",
    "ifName": f"{_IFX}.1", "ifInMulticastPkts": f"{_IFX}.2", "ifInBroadcastPkts": f"{_IFX}.3",
    "ifHCInOctets": f"{_IFX}.6", "ifHCInUcastPkts": f"{_IFX}.7", "ifHCOutOctets": f"{_IFX}.10",
    "ifHCOutUcastPkts": f"{_IFX}.11", "ifHighSpeed": f"{_IFX}.15", "ifAlias": f"{_IFX}.18",
}  # fmt: skip

#: Interface table columns a probe may ask for (``interfaces.columns``).
IF_COLUMNS = frozenset(
    n for n, oid in NAMES.items() if oid.startswith((_IF, _IFX)) and n not in ("ifIndex",)
)

_NUMERIC = re.compile(r"^\.?(\d+)(\.\d+)*$")
_NAMED = re.compile(r"^(?:[A-Za-z0-9-]+::)?([A-Za-z][A-Za-z0-9]*)((?:\.\d+)*)$")


def resolve_oid(text: str) -> str:
    """A numeric OID (no leading dot) for ``1.3.6...``, ``sysUpTime.0`` or ``IF-MIB::ifName``.

    Raises:
        ValueError: neither numeric nor a known name.

    Example:
        >>> resolve_oid("SNMPv2-MIB::sysUpTime.0"), resolve_oid(".1.3.6.1.4.1.9")
        ('1.3.6.1.2.1.1.3.0', '1.3.6.1.4.1.9')
    """
    text = text.strip()
    if _NUMERIC.match(text):
        return text.lstrip(".")
    m = _NAMED.match(text)
    if m is None or m.group(1) not in NAMES:
        raise ValueError(
            f"OID {text!r}: not numeric and not a known name ({', '.join(sorted(NAMES))})"
        )
    return NAMES[m.group(1)] + m.group(2)


class CounterRates:
    """Per-second rates of Counter32/Counter64 values between probes.

    Example:
        >>> r = CounterRates()
        >>> r.update("x", 4294967290, 32, 0.0), r.update("x", 9, 32, 5.0)  # wrapped: +15
        (None, 3.0)
        >>> r.update("y", 100, 64, 0.0), r.update("y", 50, 64, 1.0)  # 64-bit: a reset
        (None, None)
    """

    def __init__(self) -> None:
        self._last: dict[str, tuple[int, float]] = {}
        self._uptime: int | None = None

    def agent_uptime(self, ticks: int) -> bool:
        """Tell the agent's ``sysUpTime``; returns True (and forgets all) if it restarted."""
        restarted = self._uptime is not None and ticks < self._uptime
        self._uptime = ticks
        if restarted:
            self._last.clear()
        return restarted

    def update(self, key: str, value: int, bits: int, ts: float) -> float | None:
        prev = self._last.get(key)
        self._last[key] = (value, ts)
        if prev is None or ts <= prev[1]:
            return None
        delta = value - prev[0]
        if delta < 0:
            if bits != 32:
                return None  # a 64-bit counter does not wrap in practice: it was reset
            delta += 1 << 32
        return delta / (ts - prev[1])

    def forget_except(self, keys: set[str]) -> None:
        for k in [k for k in self._last if k not in keys]:
            del self._last[k]
