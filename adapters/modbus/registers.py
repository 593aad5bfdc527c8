"""Modbus register maps: value types, word/byte order, scaling, and batching into reads.

Pure code: :func:`plan_reads` groups a map into as few requests as the protocol allows
(per unit and table, contiguous or within ``max_gap`` of each other, at most 125 registers
or 2000 bits per request), and :func:`decode` turns the 16-bit words of one entry into its
value.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MAX_BITS",
    "MAX_REGISTERS",
    "Read",
    "Register",
    "Table",
    "ValueType",
    "decode",
    "plan_reads",
]

Table = Literal["holding", "input", "coil", "discrete"]
ValueType = Literal["int16", "uint16", "int32", "uint32", "float32", "float64", "bool"]

#: Protocol limits per request (function codes 3/4 and 1/2).
MAX_REGISTERS = 125
MAX_BITS = 2000

_WORDS: dict[str, int] = {
    "int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "float64": 4, "bool": 1,
}  # fmt: skip
_FORMAT = {"int16": ">h", "uint16": ">H", "int32": ">i", "uint32": ">I", "float32": ">f",
           "float64": ">d"}  # fmt: skip


class Register(BaseModel):
    """One value in a device's map.

    ``word_order: little`` puts the least significant word first (the common "swapped"
    float); ``byte_order: little`` swaps the two bytes inside each word. The published
    value is ``raw * scale + offset``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="metric name")
    table: Table = "holding"
    address: int = Field(ge=0, le=65535, description="0-based protocol address")
    type: ValueType | None = Field(default=None, description="default: uint16, or bool for bits")
    #: Words (or bits) it spans; checked against the type.
    count: int | None = Field(default=None, ge=1)
    word_order: Literal["big", "little"] = "big"
    byte_order: Literal["big", "little"] = "big"
    scale: float = 1.0
    offset: float = 0.0
    unit: str = ""
    #: Overrides the endpoint's unit id (several devices behind one gateway).
    unit_id: int | None = Field(default=None, ge=0, le=255)

    @model_validator(mode="after")
    def _type_fits_table(self) -> Register:
        bits = self.table in ("coil", "discrete")
        if self.type is None:
            object.__setattr__(self, "type", "bool" if bits else "uint16")
        if bits != (self.type == "bool"):
            raise ValueError(
                f"type {self.type} does not fit table {self.table} "
                "(coil/discrete are bool, registers are numbers)"
            )
        if self.count is not None and self.count != self.words:
            raise ValueError(f"count {self.count} does not fit type {self.type} ({self.words})")
        if self.address + self.words > 65536:
            raise ValueError(f"address {self.address} + {self.words} passes the end of the table")
        return self

    @property
    def words(self) -> int:
        return _WORDS[self.type or "uint16"]


@dataclass
class Read:
    """One request: ``count`` registers or bits of ``table`` from ``start`` on ``unit``."""

    unit: int
    table: Table
    start: int
    count: int
    registers: list[Register] = field(default_factory=list)


def plan_reads(registers: list[Register], default_unit: int, max_gap: int = 0) -> list[Read]:
    """Group a map into requests: per (unit, table), sorted by address, joining entries whose
    gap is at most ``max_gap`` while the request stays within the protocol's limit.

    Example:
        >>> m = [Register(name="a", address=0), Register(name="b", address=1, type="float32"),
        ...      Register(name="c", address=10), Register(name="d", table="coil", address=5)]
        >>> [(r.table, r.start, r.count) for r in plan_reads(m, 1)]
        [('coil', 5, 1), ('holding', 0, 3), ('holding', 10, 1)]
        >>> [(r.table, r.start, r.count) for r in plan_reads(m, 1, max_gap=8)][1:]
        [('holding', 0, 11)]
    """
    groups: dict[tuple[int, str], list[Register]] = {}
    for reg in registers:
        unit = default_unit if reg.unit_id is None else reg.unit_id
        groups.setdefault((unit, reg.table), []).append(reg)
    reads: list[Read] = []
    for (unit, table), regs in sorted(groups.items()):
        limit = MAX_BITS if table in ("coil", "discrete") else MAX_REGISTERS
        cur: Read | None = None
        for reg in sorted(regs, key=lambda r: (r.address, r.words)):
            end = reg.address + reg.words
            if cur is not None:
                gap = reg.address - (cur.start + cur.count)
                if gap <= max_gap and max(end, cur.start + cur.count) - cur.start <= limit:
                    cur.count = max(cur.count, end - cur.start)
                    cur.registers.append(reg)
                    continue
            cur = Read(unit, table, reg.address, reg.words, [reg])  # type: ignore[arg-type]
            reads.append(cur)
    return reads


def decode(reg: Register, words: list[int]) -> float:
    """The scaled value of ``reg`` from its 16-bit ``words`` (bits: 0/1) as read.

    Example:
        >>> r = Register(name="t", address=0, type="float32", word_order="little")
        >>> decode(r, [0x0000, 0x41A4])  # 20.5 with the low word first
        20.5
        >>> decode(Register(name="p", address=0, type="int16", scale=0.1), [0xFFF6])
        -1.0
    """
    if reg.type == "bool":
        return float(bool(words[0])) * reg.scale + reg.offset
    if len(words) != reg.words:
        raise ValueError(f"{reg.name}: {len(words)} words for {reg.type}")
    ordered = words if reg.word_order == "big" else list(reversed(words))
    raw = b"".join(
        w.to_bytes(2, "big") if reg.byte_order == "big" else w.to_bytes(2, "little")
        for w in ordered
    )
    (value,) = struct.unpack(_FORMAT[reg.type or "uint16"], raw)
    return float(value) * reg.scale + reg.offset
