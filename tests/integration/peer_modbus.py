"""A libmodbus server (C, compiled here) on a free loopback port, logging every request."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from pathlib import Path

from tests.integration.peers import INSTALL_HINT, free_port, wait_for

__all__ = ["ModbusServer", "build_modbus_server"]

SRC = Path(__file__).resolve().parent / "peers_src" / "modbus_server.c"


def build_modbus_server(out_dir: Path) -> Path:
    """Compile ``modbus_server.c`` against Debian's libmodbus-dev."""
    if shutil.which("gcc") is None or shutil.which("pkg-config") is None:
        raise FileNotFoundError(f"gcc/pkg-config not installed; {INSTALL_HINT}")
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "libmodbus"], capture_output=True, text=True
    )
    if flags.returncode != 0:
        raise FileNotFoundError(f"libmodbus-dev not installed; {INSTALL_HINT}")
    exe = out_dir / "modbus_server"
    subprocess.run(
        ["gcc", "-O1", "-Wall", "-o", str(exe), str(SRC), *flags.stdout.split()],
        check=True, capture_output=True,
    )  # fmt: skip
    return exe


class ModbusServer:
    """Runs the compiled server with initial table values; ``requests`` collects its log
    lines (``(unit, function, address, count)``) as they come."""

    def __init__(self, exe: Path, values: dict[tuple[str, int], int]) -> None:
        self.exe = exe
        self.values = values
        self.port = free_port()
        self.requests: list[tuple[int, int, int, int]] = []
        self.proc: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("listening"):
                self._ready.set()
            elif line.startswith("req "):
                f = dict(kv.split("=") for kv in line.split()[1:])
                self.requests.append(
                    (int(f["unit"]), int(f["fn"]), int(f["addr"]), int(f["count"]))
                )

    def wait_requests(self, n: int, timeout: float = 10) -> list[tuple[int, int, int, int]]:
        """The request log once it holds ``n`` entries (the server logs each before replying,
        but this process reads the log on a thread of its own)."""
        wait_for(lambda: len(self.requests) >= n, timeout, f"{n} logged Modbus requests")
        return list(self.requests)

    def __enter__(self) -> ModbusServer:
        self.proc = subprocess.Popen(
            [str(self.exe), str(self.port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.proc.stdin is not None
        for (table, addr), value in self.values.items():
            self.proc.stdin.write(f"{table[0]} {addr} {value}\n")
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(10):
            self.__exit__()
            raise TimeoutError("modbus_server did not start listening within 10 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            self.proc.wait(5)
            self.proc = None
