"""DBC signal selection and windows (no bus)."""

from __future__ import annotations

from pathlib import Path

import cantools
import pytest

from adapters.canbus import CanAdapter
from adapters.canbus.signals import SignalDecoder, SignalSpec, load_dbc

DBC = """VERSION ""
BO_ 256 A: 2 ECU
 SG_ X : 0|8@1+ (1,0) [0|255] "" Vector__XXX
 SG_ Y : 8|8@1- (0.5,0) [-64|63.5] "m" Vector__XXX
BO_ 512 B: 1 ECU
 SG_ X : 0|8@1+ (1,0) [0|255] "" Vector__XXX
"""


def db() -> object:
    return cantools.database.load_string(DBC, database_format="dbc")


def test_ambiguous_and_missing_signals_are_named() -> None:
    with pytest.raises(ValueError, match=r"signal X: in several messages \['A', 'B'\]"):
        SignalDecoder(db(), [SignalSpec(signal="X")])
    with pytest.raises(ValueError, match=r"signal A\.Z: not in the DBC"):
        SignalDecoder(db(), [SignalSpec(message="A", signal="Z")])


def test_all_signals_when_none_chosen_and_signed_scaling() -> None:
    dec = SignalDecoder(db(), [])
    assert dec.frame_ids == {256, 512}
    assert dec.feed(256, bytes([7, 0xFE])) == 2
    assert dec.feed(512, bytes([9])) == 1
    assert dec.feed(0x7FF, b"") is None
    assert sorted(dec.flush(["last"])) == [
        ("A.X", "last", 7.0, ""), ("A.Y", "last", -1.0, "m"), ("B.X", "last", 9.0, ""),
    ]  # fmt: skip
    assert dec.flush(["last"]) == []  # a window is emptied by its flush


def test_short_frame_is_a_value_error() -> None:
    dec = SignalDecoder(db(), [SignalSpec(message="A", signal="Y")])
    with pytest.raises(ValueError, match="A: "):
        dec.feed(256, b"\x01")


def test_config_names_a_bad_dbc_and_signal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dbc"
    bad.write_text("BO_ this is not a dbc")
    with pytest.raises(ValueError, match="not a readable DBC"):
        load_dbc(bad)
    good = tmp_path / "good.dbc"
    good.write_text(DBC)
    with pytest.raises(ValueError, match="signal Nope: not in the DBC"):
        CanAdapter.parse_endpoint(
            {"id": "c", "channel": "can0", "dbc": str(good), "signals": [{"signal": "Nope"}]}
        )
