"""Debian's snmpd on a free loopback UDP port with its own config: a v2c community, a v3
authPriv user, and a ``pass`` script serving a Counter32 and a Gauge32 the test controls."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
from pathlib import Path

from tests.integration.peers import INSTALL_HINT, free_port, wait_for

__all__ = ["COUNTER_OID", "GAUGE_OID", "Snmpd"]

COUNTER_OID = "1.3.6.1.4.1.99999.1.0"
GAUGE_OID = "1.3.6.1.4.1.99999.2.0"

_PASS = """#!/bin/sh
# snmpd pass script: GET of two objects, GETNEXT through them (for walks).
D=$(dirname "$0")
c() { echo .{counter}; echo counter; cat "$D/counter"; }
g() { echo .{gauge}; echo gauge; echo 42; }
case "$1 $2" in
  "-g .{counter}") c;;
  "-g .{gauge}") g;;
  "-n .1.3.6.1.4.1.99999"|"-n .1.3.6.1.4.1.99999.1") c;;
  "-n .{counter}"|"-n .1.3.6.1.4.1.99999.2") g;;
esac
"""


class Snmpd:
    """``snmpd -f`` with ``-C`` (no system config) and a private persistent directory.

    Attributes: ``port``, ``community``, ``user``, ``auth_key``, ``priv_key``.
    """

    community = "padit-ro"
    user = "paditv3"
    auth_key = "auth-pass-123"
    priv_key = "priv-pass-456"

    def __init__(self, workdir: Path) -> None:
        if shutil.which("snmpd") is None:
            raise FileNotFoundError(f"snmpd not installed; {INSTALL_HINT}")
        self.dir = workdir
        self.port = free_port(socket.SOCK_DGRAM)
        self.proc: subprocess.Popen[bytes] | None = None
        self.set_counter(0)

    def set_counter(self, value: int) -> None:
        (self.dir / "counter").write_text(f"{value}\n")

    def _write_config(self) -> Path:
        script = self.dir / "pass.sh"
        script.write_text(_PASS.replace("{counter}", COUNTER_OID).replace("{gauge}", GAUGE_OID))
        script.chmod(0o755)
        conf = self.dir / "snmpd.conf"
        conf.write_text(
            f"agentAddress udp:127.0.0.1:{self.port}\n"
            f"rocommunity {self.community} 127.0.0.1\n"
            f'createUser {self.user} SHA "{self.auth_key}" AES "{self.priv_key}"\n'
            f"rouser {self.user} priv\n"
            "sysLocation padit-test\n"
            f"pass .1.3.6.1.4.1.99999 {script}\n"
        )
        return conf

    def _answers(self) -> bool:
        res = subprocess.run(
            ["snmpget", "-v2c", "-c", self.community, "-t", "0.3", "-r", "0",
             f"127.0.0.1:{self.port}", "1.3.6.1.2.1.1.3.0"],
            capture_output=True, text=True,
        )  # fmt: skip
        return res.returncode == 0

    def __enter__(self) -> Snmpd:
        conf = self._write_config()
        self.proc = subprocess.Popen(
            ["snmpd", "-f", "-Lf", str(self.dir / "snmpd.log"), "-C", "-c", str(conf),
             "-p", str(self.dir / "snmpd.pid")],
            env={"PATH": "/usr/sbin:/usr/bin:/bin", "SNMP_PERSISTENT_DIR": str(self.dir / "var")},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            if shutil.which("snmpget"):
                wait_for(self._answers, 10, "snmpd")
            else:
                wait_for(lambda: (self.dir / "snmpd.pid").exists(), 10, "snmpd")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            self.proc.wait(5)
            self.proc = None
