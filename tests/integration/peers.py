"""Real peers for the adapter integration tests: HTTP(S) servers, socat UDP echo,
netconfd behind sshd, network namespaces joined by a veth pair, and tshark captures.

Everything listens on loopback or inside namespaces the test creates, and is torn down by
the context managers. Recipes: /work/shared/notes/real-peers.md.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = (
    str(REPO_ROOT / ".venv" / "bin" / "python")
    if (REPO_ROOT / ".venv" / "bin" / "python").exists()
    else "python3"
)
INSTALL_HINT = "run scripts/install-peers.sh (as root) to install the test peers"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port the OS just handed out on 127.0.0.1 (for servers that need it up front)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise TimeoutError(f"{what} not ready within {timeout} s")


def tcp_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


# --------------------------------------------------------------------------- HTTP(S)


class _Handler(http.server.BaseHTTPRequestHandler):
    slow_sec = 3.0

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            time.sleep(self.slow_sec)
        status = 500 if self.path.startswith("/fail") else 200
        body = b"broken\n" if status == 500 else b"hello from padit test peer\n"
        if self.path.startswith("/echo-auth"):
            body = (self.headers.get("Authorization") or "").encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops SYNs when many probes connect at once.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out on /slow hang up before the answer: not a peer failure.
        pass


class HttpPeer:
    """A threaded HTTP server on 127.0.0.1 (https when given an SSL context).

    Paths: ``/`` 200, ``/slow`` answers after 3 s, ``/fail`` 500, ``/echo-auth`` returns the
    Authorization header.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.server = _Server(("127.0.0.1", 0), _Handler)
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
        self.port: int = self.server.server_address[1]
        self.scheme = "https" if ssl_context else "http"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> HttpPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


# --------------------------------------------------------------------------- UDP echo


class SocatEcho:
    """``socat UDP4-LISTEN:PORT,fork PIPE`` (RFC 862 echo) in its own process group."""

    def __init__(self) -> None:
        if shutil.which("socat") is None:
            raise FileNotFoundError(f"socat not installed; {INSTALL_HINT}")
        self.port = free_port(socket.SOCK_DGRAM)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SocatEcho:
        # setsid: the forked per-peer children must die with the parent (kill the group).
        self.proc = subprocess.Popen(
            ["socat", f"UDP4-LISTEN:{self.port},bind=127.0.0.1,fork,reuseaddr", "PIPE"],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(self._bound, 5, "socat")
        except BaseException:
            self.__exit__()
            raise
        return self

    def _bound(self) -> bool:
        out = subprocess.run(
            ["ss", "-Huan", "sport", f"= :{self.port}"], capture_output=True, text=True
        ).stdout
        return bool(out.strip())

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(5)


# --------------------------------------------------------------------------- NETCONF

_GET_IPV4 = """#!/bin/sh
# Helper netconfd's ietf-interfaces module runs and Debian does not ship.
echo '<ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ip">'
ip -4 -o addr show dev "$1" 2>/dev/null | awk '{split($4, a, "/"); \
print "<address><ip>" a[1] "</ip></address>"}'
echo '</ipv4>'
"""


class NetconfPeer:
    """Debian's netconfd (yuma123, ietf-interfaces + ietf-system) behind a private sshd.

    Attributes: ``port`` (SSH), ``key_file`` (client private key, user root).
    """

    def __init__(self, workdir: Path) -> None:
        for tool in ("netconfd", "/usr/sbin/sshd", "/usr/sbin/netconf-subsystem", "ssh-keygen"):
            if shutil.which(tool) is None:
                raise FileNotFoundError(f"{tool} not installed; {INSTALL_HINT}")
        self.dir = workdir
        self.port = free_port()
        self.key_file = workdir / "client_key"
        self.procs: list[subprocess.Popen[bytes]] = []

    def _prepare(self) -> None:
        d = self.dir
        bindir = d / "bin"
        bindir.mkdir(parents=True, exist_ok=True)
        helper = bindir / "get-interface-ipv4"
        helper.write_text(_GET_IPV4)
        helper.chmod(0o755)
        for name in ("host_ed25519", "client_key"):
            if (d / name).exists():
                continue
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True
            )
        (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
        (d / "sshd_config").write_text(
            f"""ListenAddress 127.0.0.1
Port {self.port}
HostKey {d}/host_ed25519
PidFile {d}/sshd.pid
UsePAM no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
AuthorizedKeysFile {d}/authorized_keys
StrictModes no
Subsystem netconf "/usr/sbin/netconf-subsystem --ncxserver-sockname={self.port}@{d}/ncx.sock"
"""
        )

    def __enter__(self) -> NetconfPeer:
        try:
            return self._start()
        except BaseException:
            self.__exit__()
            raise

    def _start(self) -> NetconfPeer:
        self.procs = []
        self._prepare()
        d = self.dir
        # A socket file left by an earlier run would make the readiness check pass early.
        (d / "ncx.sock").unlink(missing_ok=True)
        env = {**os.environ, "PATH": f"{d}/bin:{os.environ.get('PATH', '/usr/bin:/bin')}"}
        # --port must name the SSH port clients come in on, or netconfd closes every session.
        self.procs.append(
            subprocess.Popen(
                [
                    "netconfd",
                    "--module=ietf-interfaces",
                    "--module=ietf-system",
                    f"--ncxserver-sockname={d}/ncx.sock",
                    f"--port={self.port}",
                    "--superuser=root",
                    "--no-startup",
                    f"--log={d}/netconfd.log",
                    "--log-level=info",
                ],
                cwd=d,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        wait_for(lambda: (d / "ncx.sock").exists(), 10, "netconfd")
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        # The child keeps its own copy of the log's descriptor.
        with open(d / "sshd.log", "wb") as log:
            self.procs.append(
                subprocess.Popen(
                    ["/usr/sbin/sshd", "-D", "-e", "-f", str(d / "sshd_config")],
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    start_new_session=True,
                )
            )
        wait_for(lambda: tcp_open(self.port), 10, "sshd")
        return self

    def connect(self) -> Any:
        """An ncclient manager to this peer (for tests that drive it)."""
        from ncclient import manager

        return manager.connect(
            host="127.0.0.1",
            port=self.port,
            username="root",
            key_filename=str(self.key_file),
            hostkey_verify=False,
            allow_agent=False,
            look_for_keys=False,
            timeout=10,
        )

    def __exit__(self, *exc: object) -> None:
        for p in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)


# --------------------------------------------------------------------------- netns + veth


def run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


class VethNamespaces:
    """Two fresh network namespaces ``a`` and ``b`` joined by a veth pair (``ifa``/``ifb``)."""

    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.a, self.b = f"padit-{tag}-a", f"padit-{tag}-b"
        self.ifa, self.ifb = f"pv{tag}a", f"pv{tag}b"  # <= 15 chars
        self.mac_a = "02:00:5e:" + ":".join(tag[i : i + 2] for i in (0, 2, 4))
        self.mac_b = "02:00:5f:" + ":".join(tag[i : i + 2] for i in (0, 2, 4))

    def __enter__(self) -> VethNamespaces:
        if shutil.which("ip") is None:
            raise FileNotFoundError(f"ip (iproute2) not installed; {INSTALL_HINT}")
        try:
            run("ip", "netns", "add", self.a)
            run("ip", "netns", "add", self.b)
            run("ip", "link", "add", self.ifa, "type", "veth", "peer", "name", self.ifb)
            for ns, ifname, mac in ((self.a, self.ifa, self.mac_a), (self.b, self.ifb, self.mac_b)):
                run("ip", "link", "set", ifname, "netns", ns)
                run("ip", "-n", ns, "link", "set", ifname, "address", mac)
                run("ip", "-n", ns, "link", "set", ifname, "up")
                run("ip", "-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def exec(self, ns: str, *cmd: str) -> list[str]:
        return ["ip", "netns", "exec", ns, *cmd]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
        # Deleting a namespace deletes its veth end; an end never moved must go by hand.
        subprocess.run(["ip", "link", "delete", self.ifa], capture_output=True)


# --------------------------------------------------------------------------- tshark


class TsharkCapture:
    """A tshark capture into a pcap file, started and ready before traffic flows."""

    def __init__(self, iface: str, bpf: str, pcap: Path, netns: str | None = None) -> None:
        if shutil.which("tshark") is None:
            raise FileNotFoundError(f"tshark not installed; {INSTALL_HINT}")
        self.cmd = ["tshark", "-n", "-i", iface, "-f", bpf, "-w", str(pcap)]
        if netns is not None:
            self.cmd = ["ip", "netns", "exec", netns, *self.cmd]
        self.pcap = pcap
        self.log = pcap.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TsharkCapture:
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen(
            self.cmd, stdout=subprocess.DEVNULL, stderr=self._log, start_new_session=True
        )
        try:
            wait_for(lambda: b"Capture started" in self.log.read_bytes(), 30, "tshark")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            # Give the kernel a moment to hand over the last frames before stopping.
            time.sleep(0.3)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGINT)
            self.proc.wait(15)
        self._log.close()

    def decode(self, *args: str) -> str:
        """``tshark -r PCAP ARGS`` stdout (stderr carries the root warning only)."""
        return subprocess.run(
            ["tshark", "-n", "-r", str(self.pcap), *args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
