"""CFM loopback (IEEE 802.1ag / ITU-T Y.1731 LBM/LBR, EtherType 0x8902) over a raw socket.

Needs CAP_NET_RAW; without it :func:`lbm_probe` raises ``PermissionError``, which the adapter
reports as data (``lbm.up=0, error=permission``). ``python -m adapters.oran.cfm respond IF``
runs a loopback responder (swap MACs, opcode LBM -> LBR) for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from adapters.errors import ProbeError

__all__ = [
    "ETH_P_CFM",
    "OPCODE_LBM",
    "OPCODE_LBR",
    "CfmFrame",
    "LoopbackStats",
    "build_lbm",
    "lbm_probe",
    "mac_bytes",
    "parse_cfm",
    "respond",
]

log = logging.getLogger(__name__)

ETH_P_CFM = 0x8902
OPCODE_LBR = 2
OPCODE_LBM = 3
_PACKET_OUTGOING = 4  # sll_pkttype of frames we sent ourselves
_ETH = struct.Struct("!6s6sH")
# MD level (3 bits) + version (5 bits), opcode, flags, first TLV offset, transaction id.
_CFM = struct.Struct("!BBBBI")
_END_TLV = b"\x00"


class CfmFrame(NamedTuple):
    dst: bytes
    src: bytes
    md_level: int
    opcode: int
    transaction_id: int


def mac_bytes(mac: str) -> bytes:
    """``"02:00:00:00:00:01"`` -> 6 bytes.

    Example:
        >>> mac_bytes("02:00:00:00:00:0a").hex()
        '02000000000a'
    """
    parts = mac.replace("-", ":").split(":")
    if len(parts) != 6:
        raise ValueError(f"not a MAC address: {mac!r}")
    return bytes(int(p, 16) for p in parts)


def build_lbm(dst: bytes, src: bytes, md_level: int, transaction_id: int) -> bytes:
    """A minimal LBM frame: Ethernet header, CFM common header, transaction id, End TLV."""
    if not 0 <= md_level <= 7:
        raise ValueError(f"MD level must be 0..7, got {md_level}")
    return (
        _ETH.pack(dst, src, ETH_P_CFM)
        + _CFM.pack(md_level << 5, OPCODE_LBM, 0, 4, transaction_id & 0xFFFFFFFF)
        + _END_TLV
    )


def parse_cfm(frame: bytes) -> CfmFrame | None:
    """Decode an LBM/LBR frame, or ``None`` if it is not one.

    Example:
        >>> f = build_lbm(b"\\x02" * 6, b"\\x04" * 6, 5, 42)
        >>> parse_cfm(f).opcode, parse_cfm(f).md_level, parse_cfm(f).transaction_id
        (3, 5, 42)
    """
    if len(frame) < _ETH.size + _CFM.size:
        return None
    dst, src, ethertype = _ETH.unpack_from(frame)
    if ethertype != ETH_P_CFM:
        return None
    level_version, opcode, _flags, _offset, tid = _CFM.unpack_from(frame, _ETH.size)
    if opcode not in (OPCODE_LBM, OPCODE_LBR):
        return None
    return CfmFrame(dst, src, level_version >> 5, opcode, tid)


@dataclass
class LoopbackStats:
    sent: int
    rtts_ms: list[float] = field(default_factory=list)

    @property
    def loss_ratio(self) -> float:
        return 1.0 - len(self.rtts_ms) / self.sent if self.sent else 0.0


def _open(ifname: str) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_CFM))
    try:
        sock.bind((ifname, ETH_P_CFM))
    except OSError:
        sock.close()
        raise
    return sock


def _blocking_probe(
    ifname: str, target: bytes, md_level: int, count: int, interval: float, wait_sec: float
) -> LoopbackStats:
    stats = LoopbackStats(sent=0)
    with _open(ifname) as sock:
        own_mac: bytes = sock.getsockname()[4][:6]
        # Transaction ids continue from a random start so replies to an older probe on the
        # same link do not match.
        first = int.from_bytes(os.urandom(4), "big")
        pending: dict[int, float] = {}
        for i in range(count):
            tid = (first + i) & 0xFFFFFFFF
            pending[tid] = time.perf_counter()
            sock.send(build_lbm(target, own_mac, md_level, tid))
            stats.sent += 1
            # Listen until the next send is due (or, after the last, for wait_sec).
            until = time.perf_counter() + (interval if i < count - 1 else wait_sec)
            while pending and (remaining := until - time.perf_counter()) > 0:
                sock.settimeout(remaining)
                try:
                    data, addr = sock.recvfrom(2048)
                except TimeoutError:
                    break
                now = time.perf_counter()
                if addr[2] == _PACKET_OUTGOING:
                    continue
                f = parse_cfm(data)
                if f is None or f.opcode != OPCODE_LBR or f.dst != own_mac:
                    continue
                t0 = pending.pop(f.transaction_id, None)
                if t0 is not None and f.src == target:
                    stats.rtts_ms.append((now - t0) * 1e3)
            if not pending and i == count - 1:
                break
    return stats


async def lbm_probe(
    ifname: str,
    target_mac: str,
    *,
    md_level: int = 0,
    count: int = 3,
    interval: float = 0.01,
    wait_sec: float = 1.0,
) -> LoopbackStats:
    """Send ``count`` LBMs to ``target_mac`` out of ``ifname`` and time the LBRs.

    Runs in a thread (raw sockets block). Raises ``PermissionError`` without CAP_NET_RAW,
    ``OSError`` for an unknown interface, ``ProbeError('timeout')`` if no LBR came.
    """
    stats = await asyncio.to_thread(
        _blocking_probe, ifname, mac_bytes(target_mac), md_level, count, interval, wait_sec
    )
    if not stats.rtts_ms:
        raise ProbeError("timeout", f"no LBR from {target_mac} on {ifname} within {wait_sec} s")
    return stats


def respond(ifname: str, stop: list[bool] | None = None, *, max_frames: int = 0) -> int:
    """Answer LBMs addressed to this interface (or multicast) with LBRs; returns the count.

    Runs until ``stop[0]`` is true, ``max_frames`` replies were sent, or a signal ends it.
    """
    with _open(ifname) as sock:
        return _respond_on(sock, stop, max_frames)


def _respond_on(sock: socket.socket, stop: list[bool] | None, max_frames: int) -> int:
    answered = 0
    own_mac: bytes = sock.getsockname()[4][:6]
    sock.settimeout(0.2)
    while not (stop and stop[0]):
        try:
            data, addr = sock.recvfrom(2048)
        except TimeoutError:
            continue
        if addr[2] == _PACKET_OUTGOING:
            continue
        f = parse_cfm(data)
        if f is None or f.opcode != OPCODE_LBM:
            continue
        if f.dst != own_mac and not f.dst[0] & 1:
            continue
        cfm = bytearray(data[_ETH.size :])
        cfm[1] = OPCODE_LBR
        sock.send(_ETH.pack(f.src, own_mac, ETH_P_CFM) + bytes(cfm))
        answered += 1
        if max_frames and answered >= max_frames:
            break
    return answered


def _main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m adapters.oran.cfm")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("respond", help="answer LBMs on IFNAME until SIGTERM")
    r.add_argument("ifname")
    args = p.parse_args(argv)
    stop = [False]

    def _stop(*_: object) -> None:
        stop[0] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with contextlib.suppress(KeyboardInterrupt):
        # The ready line tells a test harness the socket is bound.
        with _open(args.ifname) as sock:
            sys.stdout.write(f"ready {args.ifname}\n")
            sys.stdout.flush()
            n = _respond_on(sock, stop, 0)
        sys.stdout.write(f"answered {n}\n")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
