"""CAN peers: ``python -m can.player`` replaying a candump-format log from another process.

Frames travel over python-can's ``udp_multicast`` bus on an IPv6 *interface-local* group
(``ff11::/16``): RFC 4291 scope 1 is "only for loopback transmission of multicast", and
Linux drops such packets before any non-loopback device sends them, so nothing leaves the
host. Each test takes a random group, so parallel runs never hear each other.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from tests.integration.peers import PYTHON

__all__ = ["DBC", "candump_line", "local_group", "play"]

#: Engine 0x100 (Rpm 0.25 rpm/bit, Temp -40 C offset), Battery 0x200 (Voltage 0.01 V/bit).
DBC = """VERSION ""

BU_: ECU BMS

BO_ 256 Engine: 3 ECU
 SG_ Rpm : 0|16@1+ (0.25,0) [0|16383.75] "rpm" Vector__XXX
 SG_ Temp : 16|8@1+ (1,-40) [-40|215] "C" Vector__XXX

BO_ 512 Battery: 2 BMS
 SG_ Voltage : 0|16@1+ (0.01,0) [0|655.35] "V" Vector__XXX
"""


def local_group() -> str:
    """A random interface-local IPv6 multicast group (the udp_multicast channel)."""
    return f"ff11::{random.randrange(1, 0xFFFF):x}:{random.randrange(1, 0xFFFF):x}"


def candump_line(ts: float, frame_id: int, data: bytes, *, error: bool = False) -> str:
    """One line of ``candump -l`` output (error frames carry CAN_ERR_FLAG|CAN_ERR_BUSERROR)."""
    if error:
        return f"({ts:.6f}) vcan0 20000080#{'00' * 8}"
    return f"({ts:.6f}) vcan0 {frame_id:03X}#{data.hex().upper()}"


def play(log: Path, group: str, *, interface: str = "udp_multicast") -> None:
    """Replay ``log`` with its original timing from a separate process; waits for the end."""
    subprocess.run(
        [PYTHON, "-m", "can.player", "--error-frames", "-i", interface, "-c", group, str(log)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
