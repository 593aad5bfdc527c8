"""Scrape targets: Debian's prometheus-node-exporter (with a textfile-collector directory the
test writes) and a prometheus-client exposition server (OpenMetrics on request)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import textwrap
from pathlib import Path

from tests.integration.peers import INSTALL_HINT, PYTHON, free_port, tcp_open, wait_for

__all__ = ["NodeExporter", "PyExporter"]


class NodeExporter:
    """``prometheus-node-exporter`` on 127.0.0.1 with ``textfile_dir`` for extra series."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("prometheus-node-exporter") is None:
            raise FileNotFoundError(f"prometheus-node-exporter not installed; {INSTALL_HINT}")
        self.port = free_port()
        self.textfile_dir = workdir / "textfile"
        self.textfile_dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, path: str = "/metrics") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def write(self, text: str) -> None:
        """Replace the textfile series (atomically, as the collector's docs ask)."""
        tmp = self.textfile_dir / "padit.prom.tmp"
        tmp.write_text(textwrap.dedent(text).lstrip())
        tmp.rename(self.textfile_dir / "padit.prom")

    def __enter__(self) -> NodeExporter:
        self.proc = subprocess.Popen(
            ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{self.port}",
             f"--collector.textfile.directory={self.textfile_dir}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for(lambda: tcp_open(self.port), 10, "node exporter")
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


_PY_EXPORTER = """
import sys, time
from prometheus_client import Counter, Histogram, start_http_server
c = Counter("padit_om_events", "events", ["kind"])
h = Histogram("padit_om_seconds", "durations", buckets=[0.5, 1.0])
start_http_server(int(sys.argv[1]), addr="127.0.0.1")
c.labels("a").inc(5)
print("ready", flush=True)
for line in sys.stdin:  # "inc N" or "observe X" from the test
    op, arg = line.split()
    (c.labels("a").inc if op == "inc" else h.observe)(float(arg))
    print("done", flush=True)
"""


class PyExporter:
    """A prometheus-client HTTP exposition (it answers OpenMetrics when asked); the test
    drives its counter and histogram through stdin."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[str] | None = None

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def do(self, op: str, arg: float) -> None:
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{op} {arg}\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "done"

    def __enter__(self) -> PyExporter:
        self.proc = subprocess.Popen(
            [PYTHON, "-c", _PY_EXPORTER, str(self.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            self.__exit__()
            raise RuntimeError("prometheus-client exporter did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            self.proc.wait(5)
            self.proc = None
