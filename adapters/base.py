"""The adapter contract, in the shape of a quix-streams ``Source``.

An adapter class declares a pydantic ``config_model`` for one endpoint; the runner builds one
instance per endpoint, calls :meth:`Adapter.start`, then either calls :meth:`Adapter.collect`
at the endpoint's interval (probing adapters) or awaits :meth:`Adapter.run` once (streaming
adapters such as replay), and finally :meth:`Adapter.cleanup` -- also after a failure.

Every probe result, success or failure, becomes metrics: the measurements plus ``up`` (1/0);
a failed ``up`` carries an ``error`` label with the :data:`~adapters.errors.ErrorKind`.
"""

from __future__ import annotations

import abc
import asyncio
import errno
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo

from adapters.errors import ErrorKind, ProbeError

__all__ = [
    "Adapter",
    "EndpointConfig",
    "MetricType",
    "ProbeResult",
    "Publish",
    "Sample",
    "classify_error",
    "guarded",
    "resolve_path",
]

MetricType = Literal["gauge", "counter", "histogram", "summary", "rate"]

#: Sends one encoded record: ``(key, value, timestamp_seconds)``.
Publish = Callable[[bytes, bytes, float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Sample:
    """One measurement of a probe; the runner adds source, protocol and endpoint labels."""

    metric_name: str
    value: float
    unit: str = ""
    metric_type: MetricType = "gauge"
    labels: Mapping[str, str] = field(default_factory=dict)
    #: Event time (epoch seconds); ``None`` means the time of the probe.
    timestamp: float | None = None
    #: The series' source when it is not the endpoint's (a scraped target's ``instance``).
    source_id: str | None = None


@dataclass(slots=True)
class ProbeResult:
    """The outcome of one probe (or one sub-probe, named by ``probe``)."""

    samples: list[Sample] = field(default_factory=list)
    probe: str | None = None
    error: ErrorKind | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


class EndpointConfig(BaseModel):
    """Options every endpoint has; adapters subclass it with their own keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="Unique name of the endpoint in the file.")
    source_id: str | None = Field(
        default=None, min_length=1, description="source_id of its metrics (default: id)."
    )
    interval_sec: float | None = Field(default=None, gt=0, description="Overrides the adapter's.")
    timeout_sec: float | None = Field(default=None, gt=0, description="Overrides the adapter's.")
    labels: dict[str, str] = Field(default_factory=dict, description="Added to every metric.")

    @property
    def source(self) -> str:
        return self.source_id or self.id


ConfigT = TypeVar("ConfigT", bound=EndpointConfig)


def resolve_path(value: Path, info: ValidationInfo) -> Path:
    """A relative path in the YAML is relative to the YAML file (``base_dir`` in the context).

    For use in ``field_validator``s of endpoint configs.
    """
    base = (info.context or {}).get("base_dir")
    if base is not None and not value.is_absolute():
        return Path(base) / value
    return value


class Adapter(abc.ABC, Generic[ConfigT]):
    """Base class of all adapters (one instance per endpoint).

    Subclasses set ``config_model`` and ``protocol``, and implement :meth:`collect` (probing)
    or set ``streaming = True`` and implement :meth:`run`.

    Example:
        >>> class Const(Adapter[EndpointConfig]):
        ...     config_model = EndpointConfig
        ...     protocol = "const"
        ...     async def collect(self) -> list[ProbeResult]:
        ...         return [ProbeResult([Sample("answer", 42.0)])]
        >>> import asyncio
        >>> asyncio.run(Const(EndpointConfig(id="a")).collect())[0].samples[0].value
        42.0
    """

    #: Name in the YAML; entry points name built-in and installed adapters themselves, plugin
    #: files must set it.
    name: ClassVar[str] = ""
    config_model: ClassVar[type[EndpointConfig]] = EndpointConfig
    protocol: ClassVar[str] = ""
    #: True: the runner awaits :meth:`run` once instead of scheduling :meth:`collect`.
    streaming: ClassVar[bool] = False

    def __init__(self, config: ConfigT) -> None:
        self.config = config
        self._stopping = asyncio.Event()
        #: Streaming adapters report each ``up`` here ``(ok, error)``; the runner sets it.
        self.on_up: Callable[[bool, ErrorKind | None], None] | None = None

    @classmethod
    def parse_endpoint(cls, raw: Any, base_dir: Path | None = None) -> EndpointConfig:
        """Validate one endpoint section (raises pydantic's ``ValidationError``).

        ``base_dir``: where relative paths in it start (the YAML file's directory).
        """
        context = {"base_dir": base_dir} if base_dir is not None else None
        return cls.config_model.model_validate(raw, context=context)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def start(self) -> None:
        """Open long-lived resources (sessions, sockets); failures count as a failed probe."""

    async def collect(self) -> list[ProbeResult]:
        """Probe the endpoint once; raise (or return failed results) on failure."""
        raise NotImplementedError(f"{type(self).__name__} does not probe")

    async def run(self, publish: Publish) -> None:
        """Streaming adapters: publish records until done or :meth:`stop` is called."""
        raise NotImplementedError(f"{type(self).__name__} is not a streaming adapter")

    def stop(self) -> None:
        """Ask :meth:`run` to finish soon; safe to call more than once."""
        self._stopping.set()

    async def cleanup(self, failed: bool) -> None:
        """Release resources; ``failed`` says whether the adapter stopped on an error."""


_ERRNO_KINDS: dict[int, ErrorKind] = {
    errno.ECONNREFUSED: "refused",
    errno.ECONNRESET: "refused",
    errno.ETIMEDOUT: "timeout",
    errno.EHOSTUNREACH: "unreachable",
    errno.ENODEV: "unreachable",
    errno.ENXIO: "unreachable",
    errno.ENETUNREACH: "unreachable",
    errno.EACCES: "permission",
    errno.EPERM: "permission",
}


def _classify_one(exc: BaseException) -> ErrorKind | None:
    # Order matters: ssl errors are OSErrors, timeouts are OSErrors too.
    if isinstance(exc, ProbeError):
        return exc.kind
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, PermissionError):
        return "permission"
    if isinstance(exc, OSError) and exc.errno in _ERRNO_KINDS:
        return _ERRNO_KINDS[exc.errno]
    name = type(exc).__name__
    # Third-party libraries (httpx/httpcore, ncclient, paramiko) are matched by name so that
    # this module needs none of them.
    if "Timeout" in name:
        return "timeout"
    if name in {"AuthenticationError", "AuthenticationException", "BadAuthenticationType"}:
        return "auth"
    return None


def classify_error(exc: BaseException) -> ErrorKind:
    """Map an exception (and its causes) to an error kind.

    Example:
        >>> classify_error(ConnectionRefusedError(111, "Connection refused"))
        'refused'
    """
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        kind = _classify_one(cur)
        if kind is not None:
            return kind
        cur = cur.__cause__ or cur.__context__
    name = type(exc).__name__
    if "Connect" in name:
        return "refused"
    if any(word in name for word in ("Protocol", "Decode", "RPC", "Operation", "Session")):
        return "protocol"
    return "internal"


async def guarded(probe: str, coro: Awaitable[list[Sample]]) -> ProbeResult:
    """Await one sub-probe and turn its exception into a failed :class:`ProbeResult`."""
    try:
        return ProbeResult(await coro, probe=probe)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return ProbeResult([], probe=probe, error=classify_error(exc), detail=str(exc) or repr(exc))
