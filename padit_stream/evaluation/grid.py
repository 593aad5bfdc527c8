"""Parameter grids for ``padit eval nab --cv --grid`` and ``--sweep``: ``PARAM=v1,v2,...``.

``PARAM`` is a constructor argument of the detector under test (``alarm_ratio``) or, for the
composite, of one of its components (``robust_z.window``). Values are read as YAML scalars.

Example:
    >>> spec = DetectorSpec(detector="composite")
    >>> name, values = parse_assignment("robust_z.window=500,1000")
    >>> name, values
    ('robust_z.window', [500, 1000])
    >>> with_params(spec, {name: values[0]}).params
    {'component_params': {'robust_z': {'window': 500}}}
    >>> [label(a) for a in expand([("holdoff", [50, 100]), ("damp", [1.0])])]
    ['holdoff=50 damp=1.0', 'holdoff=100 damp=1.0']
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from padit_stream.configfile import config_error
from padit_stream.detectors.config import DetectorSpec
from padit_stream.errors import ConfigError

__all__ = ["Assignment", "expand", "label", "parse_assignment", "with_params"]

#: One configuration of the grid: parameter -> value.
Assignment = dict[str, Any]


def parse_assignment(text: str) -> tuple[str, list[Any]]:
    """``PARAM=v1,v2,...`` as (PARAM, values).

    Raises:
        ConfigError: not of that form.
    """
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not name or not rest.strip():
        raise ConfigError(f"{text!r}: expected PARAM=v1,v2,... (for example alarm_ratio=0.9,1.2)")
    try:
        values = [yaml.safe_load(v) for v in rest.split(",")]
    except yaml.YAMLError as exc:
        raise ConfigError(f"{text!r}: values must be YAML scalars ({exc})") from exc
    if any(v is None or isinstance(v, list | dict) for v in values):
        raise ConfigError(f"{text!r}: every value must be a number, a string or a boolean")
    return name, values


def with_params(spec: DetectorSpec, assignment: Mapping[str, Any]) -> DetectorSpec:
    """``spec`` with the assignment applied (``component.param`` goes to component_params).

    Raises:
        ConfigError: a parameter the detector does not take.
    """
    params = dict(spec.params)
    for key, value in assignment.items():
        component, dot, param = key.partition(".")
        if dot:
            nested = {c: dict(p) for c, p in (params.get("component_params") or {}).items()}
            nested.setdefault(component, {})[param] = value
            params["component_params"] = nested
        else:
            params[key] = value
    try:
        return DetectorSpec(detector=spec.detector, params=params)
    except ValidationError as exc:
        raise config_error(exc, f"--grid/--sweep for detector {spec.detector!r}") from exc


def expand(grid: Sequence[tuple[str, Sequence[Any]]]) -> list[Assignment]:
    """Every combination of the grid's values (one empty assignment for an empty grid)."""
    names = [n for n, _ in grid]
    return [
        dict(zip(names, combo, strict=True)) for combo in itertools.product(*(v for _, v in grid))
    ]


def label(assignment: Mapping[str, Any]) -> str:
    """A short name for an assignment (``defaults`` when empty)."""
    return " ".join(f"{k}={v}" for k, v in assignment.items()) or "defaults"
