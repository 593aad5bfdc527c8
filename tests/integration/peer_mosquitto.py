"""Debian's mosquitto on a free loopback port, with a password file, restartable in place."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

from tests.integration.peers import INSTALL_HINT, free_port, tcp_open, wait_for

__all__ = ["Mosquitto"]


class Mosquitto:
    """``mosquitto -c FILE`` in the foreground; anonymous clients refused, one user allowed.

    Attributes: ``port``, ``username``, ``password``.
    """

    def __init__(
        self,
        workdir: Path,
        username: str = "padit",
        password: str = "s3cret",
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        """``tls``: (certificate chain PEM, private key PEM) for a TLS-only listener."""
        for tool in ("mosquitto", "mosquitto_passwd", "mosquitto_pub"):
            if shutil.which(tool) is None:
                raise FileNotFoundError(f"{tool} not installed; {INSTALL_HINT}")
        self.dir = workdir
        self.port = free_port()
        self.username = username
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "mosquitto.log"
        self.tls = tls

    def _prepare(self) -> Path:
        pw = self.dir / "passwd"
        pw.touch(mode=0o600)
        subprocess.run(
            ["mosquitto_passwd", "-b", str(pw), self.username, self.password],
            check=True, capture_output=True,
        )  # fmt: skip
        conf = self.dir / "mosquitto.conf"
        tls = ""
        if self.tls is not None:
            tls = f"certfile {self.tls[0]}\nkeyfile {self.tls[1]}\n"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"{tls}"
            "allow_anonymous false\n"
            f"password_file {pw}\n"
            "persistence false\n"
            # As root mosquitto switches to user mosquitto, who cannot read a private temp dir.
            "user root\n"
            f"log_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
        )
        return conf

    def start(self) -> Mosquitto:
        conf = self.dir / "mosquitto.conf"
        if not conf.exists():
            conf = self._prepare()
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(lambda: tcp_open(self.port), 10, "mosquitto")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        """Same port and users; sessions and in-flight messages are gone (no persistence)."""
        self.stop()
        self.start()

    def publish(self, topic: str, payload: str, qos: int = 0) -> None:
        """One message through ``mosquitto_pub`` (a client independent of the adapter's)."""
        subprocess.run(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-u", self.username,
             "-P", self.password, "-q", str(qos), "-t", topic, "-m", payload],
            check=True, capture_output=True, timeout=10,
        )  # fmt: skip

    def publish_tls(self, topic: str, payload: str, ca_file: Path) -> None:
        """:meth:`publish` over the TLS listener, verifying the broker with ``ca_file``."""
        subprocess.run(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-u", self.username,
             "-P", self.password, "--cafile", str(ca_file), "-t", topic, "-m", payload],
            check=True, capture_output=True, timeout=10,
        )  # fmt: skip

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
