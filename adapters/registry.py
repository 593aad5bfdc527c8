"""Find adapter classes: the ``padit.adapters`` entry-point group and a plugin directory.

Entry points are loaded only when their name is asked for, so that a config using only the
HTTP adapter never imports ncclient.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from adapters.base import Adapter
from adapters.errors import AdapterConfigError

__all__ = ["ENTRY_POINT_GROUP", "AdapterRegistry"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "padit.adapters"


class AdapterRegistry:
    """Adapter classes by name.

    Args:
        plugin_dir: every ``*.py`` file in it (not starting with ``_``) is imported and its
            :class:`~adapters.base.Adapter` subclasses with a ``name`` are registered. A plugin
            name may not shadow an entry point.

    Example:
        >>> reg = AdapterRegistry()
        >>> "http" in reg.names()
        True
    """

    def __init__(self, plugin_dir: Path | None = None) -> None:
        self._entry_points: dict[str, EntryPoint] = {
            ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)
        }
        self._loaded: dict[str, type[Adapter[Any]]] = {}
        self._origin: dict[str, str] = {
            name: f"entry point {ep.value}" for name, ep in self._entry_points.items()
        }
        if plugin_dir is not None:
            self._load_plugin_dir(plugin_dir)

    def names(self) -> list[str]:
        return sorted(set(self._entry_points) | set(self._loaded))

    def origin(self, name: str) -> str:
        """Where the adapter ``name`` comes from (entry point or plugin file)."""
        return self._origin[name]

    def get(self, name: str) -> type[Adapter[Any]]:
        """The adapter class registered as ``name``.

        Raises:
            KeyError: no such adapter.
            AdapterConfigError: its entry point does not load or is not an Adapter.
        """
        if name in self._loaded:
            return self._loaded[name]
        ep = self._entry_points[name]
        try:
            obj = ep.load()
        except Exception as exc:
            raise AdapterConfigError(
                f"adapter '{name}': entry point {ep.value} failed to load: {exc}"
            ) from exc
        if not (inspect.isclass(obj) and issubclass(obj, Adapter)):
            raise AdapterConfigError(
                f"adapter '{name}': entry point {ep.value} is not an adapters.base.Adapter "
                f"subclass (got {obj!r})"
            )
        self._loaded[name] = obj
        return obj

    def _load_plugin_dir(self, plugin_dir: Path) -> None:
        if not plugin_dir.is_dir():
            raise AdapterConfigError(f"plugin_dir {plugin_dir}: not a directory")
        for path in sorted(plugin_dir.glob("*.py")):
            if path.name.startswith("_"):
                continue
            module = self._import_file(path)
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(obj, Adapter)
                    and obj.__module__ == module.__name__
                    and not inspect.isabstract(obj)
                    and obj.name
                ):
                    self._register_plugin(obj, path)

    def _register_plugin(self, cls: type[Adapter[Any]], path: Path) -> None:
        name = cls.name
        if name in self._origin:
            raise AdapterConfigError(
                f"plugin {path}: adapter name '{name}' is already taken by {self._origin[name]}"
            )
        self._loaded[name] = cls
        self._origin[name] = f"plugin {path}"
        log.info("adapter %r from plugin %s", name, path)

    @staticmethod
    def _import_file(path: Path) -> Any:
        # A private module name per file: two plugin dirs may hold files with the same stem.
        mod_name = f"padit_adapter_plugin_{abs(hash(str(path.resolve()))):x}_{path.stem}"
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise AdapterConfigError(f"plugin {path}: cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[mod_name]
            raise AdapterConfigError(f"plugin {path}: import failed: {exc!r}") from exc
        return module
