"""The registry: built-in entry points, plugin files, and their failure modes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from adapters.base import Adapter
from adapters.config import load_config
from adapters.errors import AdapterConfigError
from adapters.registry import AdapterRegistry

PLUGIN = """
from adapters.base import Adapter, EndpointConfig, ProbeResult, Sample

class Dice(Adapter[EndpointConfig]):
    name = "dice"
    config_model = EndpointConfig
    protocol = "dice"

    async def collect(self):
        return [ProbeResult([Sample("roll", 4.0)])]
"""


def test_builtins_come_from_entry_points() -> None:
    reg = AdapterRegistry()
    assert {"http", "oran-cfm", "replay"} <= set(reg.names())
    for name in ("http", "replay"):
        cls = reg.get(name)
        assert issubclass(cls, Adapter)
        assert reg.origin(name).startswith("entry point adapters.")
    with pytest.raises(KeyError):
        reg.get("nope")


def test_plugin_dir_adapter_is_usable_from_yaml(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "dice.py").write_text(PLUGIN)
    (plugins / "_ignored.py").write_text("raise RuntimeError('must not be imported')\n")
    path = tmp_path / "a.yaml"
    path.write_text(
        textwrap.dedent(
            """
            plugin_dir: plugins
            adapters:
              - {name: dice, endpoints: [{id: d1}]}
            """
        )
    )
    cfg = load_config(path)
    assert cfg.plugin_dir == plugins.resolve()
    assert cfg.endpoints[0].adapter_cls.name == "dice"


def test_plugin_may_not_shadow_an_entry_point(tmp_path: Path) -> None:
    (tmp_path / "evil.py").write_text(PLUGIN.replace('name = "dice"', 'name = "http"'))
    with pytest.raises(AdapterConfigError, match="already taken by entry point"):
        AdapterRegistry(tmp_path)


def test_broken_plugin_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import no_such_module_padit\n")
    with pytest.raises(AdapterConfigError, match=r"broken\.py: import failed"):
        AdapterRegistry(tmp_path)


def test_missing_plugin_dir_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("plugin_dir: nowhere\nadapters:\n  - {name: http, endpoints: [{id: a}]}\n")
    with pytest.raises(AdapterConfigError, match=r"key 'plugin_dir'.*not a directory"):
        load_config(path)


def test_adapters_do_not_import_faust() -> None:
    import subprocess
    import sys

    code = (
        "import sys, adapters.cli, adapters.http, adapters.oran, adapters.replay;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'faust', 'mode'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
