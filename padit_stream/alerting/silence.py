"""Silences: mute alerts whose labels match, between a start and an end, optionally only
inside a recurring weekly window (days of the week and a daily time range in a timezone).

Pure: :class:`SilenceStore` is plain data; the web view's ``POST/GET/DELETE /silences``
call :meth:`SilenceStore.create`, :meth:`SilenceStore.list` and :meth:`SilenceStore.expire`
with the wall time. As in Alertmanager, an expired silence is kept for the record during
the retention period (``alerting.data_retention``, 120 h by default), then
:meth:`SilenceStore.gc` forgets it. The stream job keeps one row per silence
(:meth:`SilenceStore.take_changes`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from padit_stream.alerting.matchers import Matcher, parse_matcher
from padit_stream.errors import DecodeError, PaditError

__all__ = [
    "DEFAULT_RETENTION",
    "SILENCE_PREFIX",
    "Silence",
    "SilenceError",
    "SilenceNotFoundError",
    "SilenceSpec",
    "SilenceStatus",
    "SilenceStore",
    "TimeWindow",
]

SilenceStatus = Literal["pending", "active", "expired"]

#: How long an expired silence is kept, as Alertmanager's ``--data.retention``.
DEFAULT_RETENTION = 120 * 3600.0
SILENCE_PREFIX = b"silence\0"
#: Table rows (``None`` deletes); named here because the store's ``list`` method shadows
#: the builtin in its class body.
_Rows = list[tuple[bytes, bytes | None]]

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class SilenceError(PaditError):
    """A silence cannot be created or changed as asked."""


class SilenceNotFoundError(SilenceError):
    """No silence has the given id."""


def _epoch(raw: Any) -> float:
    """Epoch seconds from a number, an ISO 8601 text or an aware datetime."""
    if isinstance(raw, bool):
        raise ValueError("a time is epoch seconds or ISO 8601 text, got a bool")
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"not ISO 8601: {raw!r}") from exc
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            raise ValueError("a time needs a timezone (e.g. a trailing Z)")
        return raw.timestamp()
    raise ValueError(f"a time is epoch seconds or ISO 8601 text, got {type(raw).__name__}")


def _day(raw: Any) -> int:
    if isinstance(raw, int) and 0 <= raw <= 6:
        return raw
    if isinstance(raw, str):
        text = raw.strip().lower()
        for i, name in enumerate(_DAYS):
            if text in (name, name[:3]):
                return i
    raise ValueError(f"a day is a weekday name such as 'monday' or 'mon', got {raw!r}")


def _clock(raw: Any) -> str:
    text = str(raw).strip()
    hh, sep, mm = text.partition(":")
    if not (sep and hh.isdigit() and mm.isdigit() and len(mm) == 2):
        raise ValueError(f"a time of day is HH:MM, got {raw!r}")
    h, m = int(hh), int(mm)
    if not ((0 <= h < 24 and 0 <= m < 60) or (h == 24 and m == 0)):
        raise ValueError(f"a time of day is 00:00..24:00, got {raw!r}")
    return f"{h:02d}:{m:02d}"


Epoch = Annotated[float, BeforeValidator(_epoch)]
MatcherField = Annotated[Matcher, BeforeValidator(parse_matcher)]


class TimeWindow(BaseModel):
    """A weekly window: on ``days``, from ``start`` to ``end`` local time in ``timezone``.

    A window whose end is not after its start runs past midnight into the next day
    (``22:00`` to ``06:00`` on Friday covers Friday night until Saturday 06:00).

    Example:
        >>> w = TimeWindow(days=["sat", "sun"], start="00:00", end="24:00", timezone="UTC")
        >>> w.contains(1_700_000_000)  # Tuesday 2023-11-14
        False
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: list[Annotated[int, BeforeValidator(_day)]] = Field(
        default_factory=lambda: list(range(7)), min_length=1
    )
    start: Annotated[str, BeforeValidator(_clock)] = "00:00"
    end: Annotated[str, BeforeValidator(_clock)] = "24:00"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown timezone {value!r} (an IANA name like 'Europe/Paris')"
            ) from exc
        return value

    @model_validator(mode="after")
    def _span(self) -> TimeWindow:
        if self.start == self.end:
            raise ValueError("start and end of the daily window must differ")
        if self.start == "24:00":
            raise ValueError("start must be before 24:00")
        return self

    def contains(self, ts: float) -> bool:
        """Whether epoch time ``ts`` falls inside the window."""
        local = datetime.fromtimestamp(ts, ZoneInfo(self.timezone))
        minute = local.hour * 60 + local.minute + local.second / 60
        start, end = _minutes(self.start), _minutes(self.end)
        day = local.weekday()
        if start < end:
            return day in self.days and start <= minute < end
        return (day in self.days and minute >= start) or (
            (day - 1) % 7 in self.days and minute < end
        )


def _minutes(clock: str) -> int:
    hh, _, mm = clock.partition(":")
    return int(hh) * 60 + int(mm)


class SilenceSpec(BaseModel):
    """What a client sends to create a silence (``POST /silences``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    matchers: list[MatcherField] = Field(min_length=1)
    starts_at: Epoch
    ends_at: Epoch
    created_by: str = Field(min_length=1)
    comment: str = ""
    time_window: TimeWindow | None = None

    @model_validator(mode="after")
    def _check(self) -> SilenceSpec:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if all(m.matches({}) for m in self.matchers):
            # Such a silence would mute every alert, which is never what an on-call meant.
            raise ValueError("at least one matcher must not match the empty string")
        return self


class Silence(BaseModel):
    """A stored silence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    matchers: list[Matcher]
    starts_at: float
    ends_at: float
    created_by: str
    comment: str = ""
    time_window: TimeWindow | None = None
    created_at: float
    updated_at: float

    def status(self, now: float) -> SilenceStatus:
        """``pending`` before its start, ``expired`` from its end, else ``active``."""
        if now < self.starts_at:
            return "pending"
        if now >= self.ends_at:
            return "expired"
        return "active"

    def mutes(self, labels: Mapping[str, str], now: float) -> bool:
        """Whether this silence mutes an alert with ``labels`` at wall time ``now``."""
        if self.status(now) != "active":
            return False
        if self.time_window is not None and not self.time_window.contains(now):
            return False
        return all(m.matches(labels) for m in self.matchers)

    def to_api(self, now: float) -> dict[str, Any]:
        """JSON-ready view with the status at ``now`` and matchers as text."""
        out = self.model_dump(mode="json")
        out["matchers"] = [str(m) for m in self.matchers]
        out["status"] = self.status(now)
        return out


class SilenceStore:
    """All silences, keyed by id; plain data, encodable to bytes.

    Example:
        >>> store = SilenceStore()
        >>> s = store.create({"matchers": ['source_id="du-1"'], "starts_at": 0,
        ...                   "ends_at": 3600, "created_by": "oncall"}, now=10, silence_id="s1")
        >>> store.matching({"source_id": "du-1"}, now=20)
        ('s1',)
        >>> store.matching({"source_id": "du-2"}, now=20)
        ()
    """

    def __init__(self, silences: Mapping[str, Silence] | None = None) -> None:
        self.silences: dict[str, Silence] = dict(silences or {})
        self._changes: dict[bytes, bytes | None] = {}

    def _put(self, silence: Silence) -> None:
        self.silences[silence.id] = silence
        self._changes[SILENCE_PREFIX + silence.id.encode()] = orjson.dumps(
            silence.model_dump(mode="json")
        )

    def create(
        self, spec: SilenceSpec | Mapping[str, Any], now: float, silence_id: str | None = None
    ) -> Silence:
        """Validate and add a silence; returns it.

        Raises:
            SilenceError: the spec is invalid (the message lists each field's problem) or
                it ends before ``now``.
        """
        if not isinstance(spec, SilenceSpec):
            try:
                spec = SilenceSpec.model_validate(dict(spec))
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'silence'}: {e['msg']}"
                    for e in exc.errors()
                )
                raise SilenceError(f"invalid silence: {problems}") from exc
        if spec.ends_at <= now:
            raise SilenceError("ends_at is in the past: the silence would never be active")
        sid = silence_id or str(uuid.uuid4())
        if sid in self.silences:
            raise SilenceError(f"a silence with id {sid!r} exists")
        silence = Silence(
            id=sid,
            matchers=list(spec.matchers),
            starts_at=max(spec.starts_at, now),
            ends_at=spec.ends_at,
            created_by=spec.created_by,
            comment=spec.comment,
            time_window=spec.time_window,
            created_at=now,
            updated_at=now,
        )
        self._put(silence)
        return silence

    def get(self, silence_id: str) -> Silence:
        """The silence with this id.

        Raises:
            SilenceNotFoundError: there is none.
        """
        try:
            return self.silences[silence_id]
        except KeyError:
            raise SilenceNotFoundError(f"no silence with id {silence_id!r}") from None

    def list(self, now: float, include_expired: bool = True) -> list[Silence]:
        """Silences ordered by start, optionally without the expired ones."""
        out = sorted(self.silences.values(), key=lambda s: (s.starts_at, s.id))
        if not include_expired:
            out = [s for s in out if s.status(now) != "expired"]
        return out

    def expire(self, silence_id: str, now: float) -> Silence:
        """End a silence at ``now`` (kept, as expired, for the record).

        Raises:
            SilenceNotFoundError: there is no such silence.
            SilenceError: it has already expired.
        """
        current = self.get(silence_id)
        if current.status(now) == "expired":
            raise SilenceError(f"silence {silence_id!r} has already expired")
        starts_at = min(current.starts_at, now)
        updated = current.model_copy(
            update={"ends_at": now, "starts_at": starts_at, "updated_at": now}
        )
        self._put(updated)
        return updated

    def matching(self, labels: Mapping[str, str], now: float) -> tuple[str, ...]:
        """Ids of the silences muting ``labels`` at ``now``, sorted."""
        return tuple(sorted(s.id for s in self.silences.values() if s.mutes(labels, now)))

    def gc(self, now: float, retention: float = DEFAULT_RETENTION) -> int:
        """Forget silences expired for longer than ``retention``; returns how many."""
        old = [sid for sid, s in self.silences.items() if now - s.ends_at > retention]
        for sid in old:
            del self.silences[sid]
            self._changes[SILENCE_PREFIX + sid.encode()] = None
        return len(old)

    def take_changes(self) -> _Rows:
        """Rows changed since the last call, one per silence (``None`` deletes a row)."""
        rows = list(self._changes.items())
        self._changes.clear()
        return rows

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[bytes, bytes]]) -> SilenceStore:
        """Rebuild from stored rows; rows of other prefixes are ignored.

        Raises:
            DecodeError: a row is not an encoded silence.
        """
        items = []
        for key, value in rows:
            if key.startswith(SILENCE_PREFIX):
                try:
                    items.append(Silence.model_validate(orjson.loads(value)))
                except (orjson.JSONDecodeError, ValidationError) as exc:
                    raise DecodeError(f"not an encoded Silence: {exc}") from exc
        return cls({s.id: s for s in items})

    def encode(self) -> bytes:
        """JSON bytes of every silence."""
        return orjson.dumps([s.model_dump(mode="json") for s in self.silences.values()])

    @classmethod
    def decode(cls, data: bytes) -> SilenceStore:
        """Inverse of :meth:`encode`.

        Raises:
            DecodeError: the bytes are not an encoded store.
        """
        try:
            items = [Silence.model_validate(obj) for obj in orjson.loads(data)]
        except (orjson.JSONDecodeError, ValidationError, TypeError) as exc:
            raise DecodeError(f"not an encoded SilenceStore: {exc}") from exc
        return cls({s.id: s for s in items})
