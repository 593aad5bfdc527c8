"""Modbus register maps: batching limits and config errors (no device)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adapters.modbus.registers import MAX_REGISTERS, Register, decode, plan_reads


def reg(**kw: object) -> Register:
    return Register.model_validate({"name": "r", **kw})


def test_requests_never_exceed_the_protocol_limit() -> None:
    regs = [reg(name=f"r{i}", address=i * 2, type="float32") for i in range(100)]  # 200 words
    reads = plan_reads(regs, 1)
    assert [(r.start, r.count) for r in reads] == [(0, 124), (124, 76)]
    assert all(r.count <= MAX_REGISTERS for r in reads)
    assert sum(len(r.registers) for r in reads) == 100


def test_units_and_tables_are_separate_requests() -> None:
    reads = plan_reads([reg(name="a", address=0), reg(name="b", address=1, unit_id=2),
                        reg(name="c", address=1, table="input")], 1)  # fmt: skip
    assert [(r.unit, r.table, r.start) for r in reads] == [
        (1, "holding", 0), (1, "input", 1), (2, "holding", 1),
    ]  # fmt: skip


def test_overlapping_entries_share_a_request() -> None:
    [read] = plan_reads([reg(name="lo", address=0), reg(name="all", address=0, type="uint32")], 1)
    assert (read.start, read.count) == (0, 2)


def test_byte_and_word_order_combined() -> None:
    r = reg(address=0, type="uint32", word_order="little", byte_order="little")
    # 0x11223344: words 0x1122, 0x3344; low word first, bytes swapped in each.
    assert decode(r, [0x4433, 0x2211]) == 0x11223344


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"address": 0, "table": "coil", "type": "int16"}, "does not fit table coil"),
        ({"address": 0, "type": "bool"}, "does not fit table holding"),
        ({"address": 0, "type": "float32", "count": 1}, "count 1 does not fit"),
        ({"address": 65535, "type": "uint32"}, "passes the end"),
        ({"address": 0, "type": "int8"}, "Input should be"),
    ],
)
def test_config_errors(kw: dict[str, object], msg: str) -> None:
    with pytest.raises(ValidationError, match=msg):
        reg(**kw)
