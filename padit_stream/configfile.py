"""Reading configuration: one YAML loader and one way to word a validation error.

Every config error names the file (or the environment variable), the key, and what was
expected, the same way for the stream's settings, the detection and alerting sections, Kafka
security and the adapters' file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from padit_stream.errors import ConfigError

__all__ = ["config_error", "describe_errors", "key_path", "read_yaml"]

E = TypeVar("E", bound=ConfigError)
_MAX_INPUT_CHARS = 80


def read_yaml(path: str | Path, *, missing_ok: bool = False) -> dict[str, Any]:
    """The top-level mapping of a YAML file (``yaml.safe_load``; an empty file is ``{}``).

    Raises:
        ConfigError: the file cannot be read, is not YAML, or is not a mapping.
    """
    path = Path(path)
    if missing_ok and not path.exists():
        return {}
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(doc).__name__}")
    return doc


def key_path(loc: tuple[Any, ...]) -> str:
    """``("receivers", 0, "name")`` -> ``receivers[0].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def describe_errors(
    exc: ValidationError,
    *,
    prefix: str = "",
    source: str = "",
    env_keys: Mapping[tuple[str, ...], str] | None = None,
) -> list[str]:
    """One line per problem: ``SOURCE: key 'a.b': what was expected (got ...)``.

    ``env_keys`` maps a key's location to the environment variable that set it: such a
    problem names the variable instead of the file.
    """
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        got = err.get("input")
        if err["type"] not in ("missing", "extra_forbidden") and not isinstance(got, dict | list):
            text = repr(got)
            if len(text) > _MAX_INPUT_CHARS:
                text = text[:_MAX_INPUT_CHARS] + "..."
            msg += f" (got {text})"
        var = (env_keys or {}).get(tuple(str(p) for p in loc))
        origin = f"environment variable {var}: " if var else (f"{source}: " if source else "")
        where = f"key '{prefix}{key_path(loc)}': " if loc or prefix else ""
        lines.append(f"{origin}{where}{msg}")
    return lines


def config_error(
    exc: ValidationError,
    source: str,
    *,
    prefix: str = "",
    env_keys: Mapping[tuple[str, ...], str] | None = None,
    error: type[E] = ConfigError,  # type: ignore[assignment]
) -> E:
    """The config error for a validation failure of ``source`` (a file, or what a section is).

    Example:
        >>> from pydantic import BaseModel, ConfigDict, Field
        >>> class Window(BaseModel):
        ...     model_config = ConfigDict(extra="forbid")
        ...     span_sec: float = Field(gt=0)
        >>> try:
        ...     Window.model_validate({"span_sec": -5, "spam": 1})
        ... except ValidationError as exc:
        ...     print(config_error(exc, "padit.yaml", prefix="window."))
        padit.yaml: key 'window.span_sec': Input should be greater than 0 (got -5)
        padit.yaml: key 'window.spam': unknown key
    """
    lines = describe_errors(exc, prefix=prefix, source=source, env_keys=env_keys)
    return error("\n".join(lines))
