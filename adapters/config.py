"""The adapters' YAML: which adapters run, on which endpoints, how often.

Shape::

    plugin_dir: plugins/          # optional, relative to this file
    adapters:
      - name: http
        interval_sec: 10
        endpoints:
          - {id: api, url: "https://api.example/health"}

Each adapter validates its own endpoint sections with its pydantic ``config_model``; the
first invalid file stops start-up with an :class:`~adapters.errors.AdapterConfigError` that
names the file, the adapter, the endpoint (index and id) and the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.base import Adapter, EndpointConfig
from adapters.errors import AdapterConfigError
from adapters.registry import AdapterRegistry
from padit_stream.configfile import config_error, read_yaml
from padit_stream.errors import ConfigError

__all__ = ["AdapterSection", "AdaptersConfig", "EndpointSpec", "expand_env", "load_config"]


class AdapterSection(BaseModel):
    """One entry of ``adapters:``; ``endpoints`` are checked by the adapter itself."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    interval_sec: float = Field(default=10.0, gt=0)
    #: Per-probe timeout; default: the interval, at most 10 s.
    timeout_sec: float | None = Field(default=None, gt=0)
    #: Each tick moves by up to +/- jitter * interval, so endpoints do not probe in lockstep.
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    #: After repeated failures the interval doubles per failure, up to this.
    backoff_max_sec: float = Field(default=300.0, gt=0)
    endpoints: list[dict[str, Any]] = Field(min_length=1)


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plugin_dir: str | None = None
    adapters: list[AdapterSection] = Field(min_length=1)


@dataclass(frozen=True)
class EndpointSpec:
    """One endpoint to run, with its schedule resolved."""

    adapter_name: str
    adapter_cls: type[Adapter[Any]]
    config: EndpointConfig
    interval_sec: float
    timeout_sec: float
    jitter: float
    backoff_max_sec: float


@dataclass(frozen=True)
class AdaptersConfig:
    path: Path
    plugin_dir: Path | None
    endpoints: list[EndpointSpec]


def expand_env(value: str, *, where: str = "") -> str:
    """Replace ``${NAME}`` with the environment variable ``NAME`` (secrets stay out of YAML).

    Raises:
        ValueError: a referenced variable is not set.

    Example:
        >>> os.environ["PADIT_DOC_TOKEN"] = "s3cret"
        >>> expand_env("Bearer ${PADIT_DOC_TOKEN}")
        'Bearer s3cret'
        >>> del os.environ["PADIT_DOC_TOKEN"]
    """
    out = []
    i = 0
    while i < len(value):
        start = value.find("${", i)
        if start < 0:
            out.append(value[i:])
            break
        end = value.find("}", start)
        if end < 0:
            raise ValueError(f"unterminated '${{' in {where or 'value'}")
        name = value[start + 2 : end]
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        out.append(value[i:start])
        out.append(os.environ[name])
        i = end + 1
    return "".join(out)


def load_config(path: str | Path, registry: AdapterRegistry | None = None) -> AdaptersConfig:
    """Read and validate the adapters' YAML.

    Args:
        path: the YAML file.
        registry: where adapter names are looked up (default: entry points plus the file's
            ``plugin_dir``).

    Raises:
        AdapterConfigError: unreadable file, bad YAML, unknown adapter, or an invalid key.
    """
    path = Path(path)
    try:
        raw = read_yaml(path)
    except ConfigError as exc:
        raise AdapterConfigError(str(exc)) from exc
    try:
        model = _FileModel.model_validate(raw)
    except ValidationError as exc:
        raise config_error(exc, str(path), error=AdapterConfigError) from exc

    plugin_dir = None
    if model.plugin_dir is not None:
        plugin_dir = (path.parent / model.plugin_dir).resolve()
    if registry is None:
        try:
            registry = AdapterRegistry(plugin_dir)
        except AdapterConfigError as exc:
            raise AdapterConfigError(f"{path}: key 'plugin_dir': {exc}") from exc

    specs: list[EndpointSpec] = []
    seen_ids: dict[str, str] = {}
    for a_idx, section in enumerate(model.adapters):
        where_a = f"{path}: adapter '{section.name}' (adapters[{a_idx}])"
        try:
            cls = registry.get(section.name)
        except KeyError:
            raise AdapterConfigError(
                f"{where_a}: key 'name': unknown adapter; expected one of {registry.names()}"
            ) from None
        except AdapterConfigError as exc:
            raise AdapterConfigError(f"{where_a}: {exc}") from exc
        for e_idx, raw_ep in enumerate(section.endpoints):
            ep_id = raw_ep.get("id")
            where = f"{where_a}, endpoint {e_idx} (id {ep_id!r})"
            try:
                cfg = cls.parse_endpoint(raw_ep, base_dir=path.parent)
            except ValidationError as exc:
                raise config_error(exc, where, error=AdapterConfigError) from exc
            except ValueError as exc:
                raise AdapterConfigError(f"{where}: {exc}") from exc
            if cfg.id in seen_ids:
                raise AdapterConfigError(
                    f"{where}: key 'id': duplicate endpoint id, already used in {seen_ids[cfg.id]}"
                )
            seen_ids[cfg.id] = f"adapter '{section.name}' endpoint {e_idx}"
            interval = cfg.interval_sec or section.interval_sec
            timeout = cfg.timeout_sec or section.timeout_sec or min(interval, 10.0)
            specs.append(
                EndpointSpec(
                    adapter_name=section.name,
                    adapter_cls=cls,
                    config=cfg,
                    interval_sec=interval,
                    timeout_sec=timeout,
                    jitter=section.jitter,
                    backoff_max_sec=max(section.backoff_max_sec, interval),
                )
            )
    return AdaptersConfig(path=path, plugin_dir=plugin_dir, endpoints=specs)
