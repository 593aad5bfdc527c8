"""A minimal PEP 517 backend (stdlib only) that builds this package's wheel."""

from __future__ import annotations

import base64
import hashlib
import tomllib
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGE = "padit_thirdparty_dice"


def _meta() -> tuple[str, str, dict[str, dict[str, str]]]:
    project = tomllib.loads((HERE / "pyproject.toml").read_text())["project"]
    return project["name"], project["version"], project.get("entry-points", {})


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    return []


def build_wheel(
    wheel_directory: str, config_settings: Any = None, metadata_directory: Any = None
) -> str:
    name, version, eps = _meta()
    dist = name.replace("-", "_")
    wheel_name = f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    files: dict[str, bytes] = {}
    for path in sorted((HERE / PACKAGE).rglob("*.py")):
        files[path.relative_to(HERE).as_posix()] = path.read_bytes()
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: padit-test-backend\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    ep_text = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()) + "\n"
        for group, entries in eps.items()
    )
    files[f"{info}/entry_points.txt"] = ep_text.encode()
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(Path(wheel_directory) / wheel_name, "w") as zf:
        for n, d in files.items():
            zf.writestr(n, d)
    return wheel_name
