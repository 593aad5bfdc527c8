"""``/api/v1/silences``: list (with Alertmanager's matcher filter), get, create, expire.

Silences live in the notification stage, which one worker owns; any other worker forwards
the request to it.
"""

from __future__ import annotations

from typing import Any

from faust.web import Request, Response

from padit_stream.alerting import SilenceError, SilenceNotFoundError
from padit_stream.api import alerting_adapter
from padit_stream.api.base import ApiView
from padit_stream.api.errors import ApiError, FieldErrors
from padit_stream.api.query import parse_matchers
from padit_stream.api.times import parse_time

__all__ = ["SilenceListView", "SilenceView", "parse_silence"]

_FIELDS = ("matchers", "starts_at", "ends_at", "created_by", "comment")


def parse_silence(body: Any, now: float) -> dict[str, Any]:
    """The spec the alerting package takes, from the API's body (one error per field).

    Raises:
        ApiError: 400 naming every bad field.

    Example:
        >>> spec = parse_silence({"matchers": '{a="b"}', "ends_at": "2026-01-01T01:00:00Z",
        ...                       "created_by": "me"}, now=1_767_225_600.0)
        >>> spec["matchers"], spec["starts_at"], spec["ends_at"]
        (['a="b"'], 1767225600.0, 1767229200.0)
    """
    errors = FieldErrors()
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "invalid_request",
            "the body must be a JSON object",
            [("body", "expected an object")],
        )
    for name in body:
        if name not in _FIELDS:
            errors.add(str(name), f"unknown field (expected {', '.join(_FIELDS)})")
    raw = body.get("matchers")
    matchers = []
    if raw is None or raw == [] or raw == "":
        errors.add("matchers", 'required: text like {source_id="du-1"} or a list of matchers')
    elif not isinstance(raw, str) and not (
        isinstance(raw, list) and all(isinstance(m, str) for m in raw)
    ):
        errors.add("matchers", "must be a string or a list of strings")
    else:
        try:
            matchers = parse_matchers(raw)
        except ValueError as exc:
            errors.add("matchers", str(exc).strip().splitlines()[-1])
        else:
            if not matchers:
                errors.add("matchers", "at least one matcher is required")
            elif all(m.matches({}) for m in matchers):
                errors.add("matchers", "at least one matcher must not match the empty string "
                           "(such a silence would mute every alert)")  # fmt: skip
    times: dict[str, float] = {}
    for name in ("starts_at", "ends_at"):
        value = body.get(name)
        if value is None:
            if name == "ends_at":
                errors.add(name, "required: an RFC 3339 time such as 2026-01-01T12:00:00Z")
            continue
        if not isinstance(value, str):
            errors.add(name, "must be an RFC 3339 time (a string)")
            continue
        try:
            times[name] = parse_time(value)
        except ValueError as exc:
            errors.add(name, str(exc))
    starts = times.get("starts_at", now)
    if "ends_at" in times:
        if times["ends_at"] <= starts:
            errors.add("ends_at", "must be after starts_at")
        elif times["ends_at"] <= now:
            errors.add("ends_at", "is in the past: the silence would never be active")
    created_by = body.get("created_by")
    if not isinstance(created_by, str) or not created_by.strip():
        errors.add("created_by", "required: who creates the silence")
    comment = body.get("comment", "")
    if not isinstance(comment, str):
        errors.add("comment", "must be a string")
    errors.raise_if_any("invalid silence")
    return {
        "matchers": [str(m) for m in matchers],
        "starts_at": starts,
        "ends_at": times["ends_at"],
        "created_by": str(created_by),
        "comment": comment,
    }


class SilenceListView(ApiView):
    """``GET`` and ``POST /api/v1/silences``."""

    async def get(self, request: Request) -> Response:
        params = self.params(request)
        flt_text = params.text("filter")
        expired = params.boolean("expired")
        flt = []
        if flt_text is not None:
            try:
                flt = parse_matchers(flt_text)
            except ValueError as exc:
                params.errors.add("filter", str(exc).strip().splitlines()[-1])
        params.done()
        routed = await self.to_owner(request, self.stream.tables.notify, 0)
        if routed is not None:
            return routed
        self.check_ready()
        items = alerting_adapter.list_silences(self.stream, flt, bool(expired))
        return self.answer({"items": items})

    async def post(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError(
                400, "invalid_request", "the body is not JSON", [("body", "expected a JSON object")]
            ) from exc
        spec = parse_silence(body, self.ctx.clock())
        routed = await self.to_owner(request, self.stream.tables.notify, 0)
        if routed is not None:
            return routed
        self.check_ready()
        try:
            silence_id = alerting_adapter.create_silence(self.stream, spec)
        except SilenceError as exc:
            raise ApiError(400, "invalid_request", str(exc), [("silence", str(exc))]) from exc
        await self.stream.sender.flush()
        return self.answer({"id": silence_id}, status=201)


class SilenceView(ApiView):
    """``GET`` and ``DELETE /api/v1/silences/{silence_id}`` (DELETE expires it)."""

    async def get(self, request: Request, silence_id: str) -> Response:
        self.params(request).done()
        routed = await self.to_owner(request, self.stream.tables.notify, 0)
        if routed is not None:
            return routed
        self.check_ready()
        try:
            return self.answer(alerting_adapter.get_silence(self.stream, silence_id))
        except SilenceNotFoundError as exc:
            raise ApiError.not_found(f"no silence {silence_id!r}") from exc

    async def delete(self, request: Request, silence_id: str) -> Response:
        self.params(request).done()
        routed = await self.to_owner(request, self.stream.tables.notify, 0)
        if routed is not None:
            return routed
        self.check_ready()
        try:
            doc = alerting_adapter.expire_silence(self.stream, silence_id)
        except SilenceNotFoundError as exc:
            raise ApiError.not_found(f"no silence {silence_id!r}") from exc
        await self.stream.sender.flush()
        return self.answer(doc)
