"""``/api/v1/feedback``: operators' verdicts on alerts, anomalies and missed incidents.

``POST`` records a verdict (write token): an alert or an anomaly was a true or a false
positive, or a time range of a series was anomalous and nothing fired (``target: range``,
``verdict: missed``). ``GET`` lists the verdicts, ``GET /{id}`` gives one, ``DELETE /{id}``
withdraws one (write token; the verdict stays, marked with who withdrew it and when).

Verdicts live on the compacted topic ``padit.feedback.v1`` (:mod:`padit_stream.feedback`),
which every worker can read, so any worker answers; a read follows every write acknowledged
before it. ``padit tune --feedback`` learns from the same topic.
"""

from __future__ import annotations

import uuid
from typing import Any

from faust.web import Request, Response
from pydantic import ValidationError

from padit_stream.api.base import ApiView
from padit_stream.api.errors import ApiError, FieldErrors
from padit_stream.api.times import format_time, parse_time
from padit_stream.feedback import Feedback, encode_feedback, withdraw
from padit_stream.feedback_topic import load_feedback
from padit_stream.security import aiokafka_kwargs

__all__ = [
    "FEEDBACK_SCHEMAS",
    "FeedbackListView",
    "FeedbackView",
    "feedback_doc",
    "feedback_paths",
    "parse_feedback",
]

_FIELDS = (
    "target",
    "verdict",
    "source_id",
    "metric_name",
    "alert_id",
    "at",
    "start",
    "end",
    "author",
    "comment",
)
_TEXT = ("source_id", "metric_name", "alert_id", "author", "comment")
_TIMES = ("at", "start", "end")
TARGETS = ("alert", "anomaly", "range")
VERDICTS = ("true_positive", "false_positive", "missed")


def parse_feedback(body: Any, now: float, new_id: str) -> Feedback:
    """The verdict a ``POST`` body describes (one error per bad field).

    Raises:
        ApiError: 400 naming every bad field.

    Example:
        >>> v = parse_feedback({"target": "range", "verdict": "missed", "source_id": "du-1",
        ...                     "metric_name": "rtt_ms", "start": "2026-01-01T00:00:00Z",
        ...                     "end": "2026-01-01T01:00:00Z", "author": "ana"},
        ...                    now=1_767_229_200.0, new_id="f1")
        >>> v.start, v.end, v.created_at
        (1767225600.0, 1767229200.0, 1767229200.0)
        >>> parse_feedback({"target": "anomaly", "verdict": "missed", "author": ""},
        ...                now=0.0, new_id="f2")
        Traceback (most recent call last):
        ...
        padit_stream.api.errors.ApiError: invalid feedback: check verdict, source_id, \
metric_name, author, at
    """
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "invalid_request",
            "the body must be a JSON object",
            [("body", "expected an object")],
        )
    errors = FieldErrors()
    for name in body:
        if name not in _FIELDS:
            errors.add(str(name), f"unknown field (expected {', '.join(_FIELDS)})")
    target = body.get("target")
    if target not in TARGETS:
        errors.add("target", f"required, one of {'|'.join(TARGETS)}")
    verdict = body.get("verdict")
    if target == "range" and verdict != "missed":
        errors.add("verdict", "a range marks a missed incident: 'missed'")
    elif target in ("alert", "anomaly") and verdict not in VERDICTS[:2]:
        errors.add("verdict", "true_positive or false_positive")
    fields: dict[str, Any] = {}
    for name in _TEXT:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            errors.add(name, "must be a string")
        elif name in ("source_id", "metric_name", "author") and not value:
            errors.add(name, "required, a non-empty string")
        elif value is not None:
            fields[name] = value
    for name in _TIMES:
        value = body.get(name)
        if value is None:
            continue
        try:
            fields[name] = parse_time(value) if isinstance(value, str) else _bad_time()
        except ValueError as exc:
            errors.add(name, str(exc))
    if target in ("alert", "anomaly") and body.get("at") is None:
        errors.add("at", "required: the time of the alert or anomaly (RFC 3339)")
    if target == "alert" and not body.get("alert_id"):
        errors.add("alert_id", "required for an alert verdict")
    if target == "range":
        for name in ("start", "end"):
            if body.get(name) is None:
                errors.add(name, "required for a range (RFC 3339)")
        if "start" in fields and "end" in fields and not fields["start"] < fields["end"]:
            errors.add("end", "must be after start")
    errors.raise_if_any("invalid feedback")
    try:
        return Feedback(id=new_id, target=target, verdict=verdict, created_at=now, **fields)
    except ValidationError as exc:
        for err in exc.errors():
            errors.add(".".join(str(p) for p in err["loc"]) or "body", err["msg"])
        errors.raise_if_any("invalid feedback")
        raise


def _bad_time() -> float:
    raise ValueError("must be an RFC 3339 date-time string such as 2026-01-01T00:00:00Z")


def feedback_doc(v: Feedback) -> dict[str, Any]:
    """The API's form of a verdict: every field, times as RFC 3339 (``null`` when absent)."""
    doc: dict[str, Any] = v.model_dump()
    for name in ("at", "start", "end", "created_at", "withdrawn_at"):
        doc[name] = format_time(doc[name])
    doc["withdrawn"] = v.withdrawn
    return doc


class _FeedbackBase(ApiView):
    def _topic(self) -> str:
        return self.stream.settings.topics.name("feedback")

    async def _all(self) -> list[Feedback]:
        settings = self.stream.settings
        bootstrap = settings.app.broker.removeprefix("kafka://").replace(";", ",")
        try:
            return await load_feedback(bootstrap, self._topic(), aiokafka_kwargs(settings.kafka))
        except Exception as exc:
            raise ApiError.unavailable(f"cannot read {self._topic()}: {exc}") from exc

    async def _write(self, verdict: Feedback) -> None:
        key, value = encode_feedback(verdict)
        try:
            await self.app.producer.send_and_wait(self._topic(), key, value, None, None, None)
        except Exception as exc:
            raise ApiError.unavailable(f"cannot write to {self._topic()}: {exc}") from exc

    async def _one(self, feedback_id: str) -> Feedback:
        for v in await self._all():
            if v.id == feedback_id:
                return v
        raise ApiError.not_found(f"no verdict {feedback_id!r} (see GET /api/v1/feedback)")


class FeedbackListView(_FeedbackBase):
    """``GET`` and ``POST /api/v1/feedback``."""

    async def get(self, request: Request) -> Response:
        params = self.params(request)
        source = params.text("source")
        metric = params.text("metric")
        target = params.choice("target", TARGETS)
        withdrawn = params.boolean("withdrawn")
        params.done()
        items = [
            feedback_doc(v)
            for v in await self._all()
            if (source is None or v.source_id == source)
            and (metric is None or v.metric_name == metric)
            and (target is None or v.target == target)
            and (withdrawn or not v.withdrawn)
        ]
        items.sort(key=lambda d: (d["created_at"], d["id"]), reverse=True)
        return self.answer({"items": items})

    async def post(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError(
                400, "invalid_request", "the body is not JSON", [("body", "expected a JSON object")]
            ) from exc
        verdict = parse_feedback(body, self.ctx.clock(), uuid.uuid4().hex)
        await self._write(verdict)
        return self.answer(feedback_doc(verdict), status=201)


class FeedbackView(_FeedbackBase):
    """``GET`` and ``DELETE /api/v1/feedback/{feedback_id}`` (delete withdraws)."""

    async def get(self, request: Request, feedback_id: str) -> Response:
        self.params(request).done()
        return self.answer(feedback_doc(await self._one(feedback_id)))

    async def delete(self, request: Request, feedback_id: str) -> Response:
        params = self.params(request)
        author = params.text("author")
        if author is None:
            params.errors.add("author", "required: who withdraws the verdict")
        params.done()
        current = await self._one(feedback_id)
        if current.withdrawn:
            raise ApiError(
                409,
                "conflict",
                f"verdict {feedback_id!r} was already withdrawn "
                f"by {current.withdrawn_by} at {format_time(current.withdrawn_at)}",
            )
        verdict = withdraw(current, by=str(author), at=self.ctx.clock())
        await self._write(verdict)
        return self.answer(feedback_doc(verdict))


# The resource's part of the OpenAPI document (padit_stream.api.openapi merges it in).
_T = {"type": "string", "format": "date-time"}
_NT = {"type": ["string", "null"], "format": "date-time"}
_S = {"type": "string"}
_NS = {"type": ["string", "null"]}
_VERDICT_PROPS: dict[str, Any] = {
    "id": _S,
    "target": {"enum": list(TARGETS)},
    "verdict": {"enum": list(VERDICTS)},
    "source_id": _S,
    "metric_name": _S,
    "alert_id": _NS,
    "at": _NT,
    "start": _NT,
    "end": _NT,
    "author": _S,
    "created_at": _T,
    "comment": _S,
    "withdrawn_at": _NT,
    "withdrawn_by": _NS,
    "withdrawn": {"type": "boolean"},
}
_CREATE_PROPS: dict[str, Any] = {
    "target": {"enum": list(TARGETS)},
    "verdict": {"enum": list(VERDICTS)},
    "source_id": _S,
    "metric_name": _S,
    "alert_id": _S,
    "at": _T,
    "start": _T,
    "end": _T,
    "author": _S,
    "comment": _S,
}
FEEDBACK_SCHEMAS: dict[str, Any] = {
    "Feedback": {
        "type": "object",
        "properties": _VERDICT_PROPS,
        "required": list(_VERDICT_PROPS),
        "additionalProperties": False,
    },
    "FeedbackList": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Feedback"}}
        },
        "required": ["items"],
        "additionalProperties": False,
    },
    "FeedbackCreate": {
        "type": "object",
        "properties": _CREATE_PROPS,
        "required": ["target", "verdict", "source_id", "metric_name", "author"],
        "additionalProperties": False,
        "description": "alert/anomaly: verdict true_positive|false_positive and at (alert: "
        "alert_id too); range: verdict missed, start and end.",
    },
}


def feedback_paths(op: Any, query: Any, path: Any) -> dict[str, Any]:
    """The paths of this resource, built with the document's own helpers."""
    bools = {"enum": ["true", "false"]}
    withdraw_op = op(
        "Withdraw a verdict (it stays listed with withdrawn=true)",
        ("200", "Feedback", "The withdrawn verdict."),
        [path("feedback_id"), {**query("author", "Who withdraws it."), "required": True}],
        not_found=True,
    )
    withdraw_op["responses"]["409"] = {
        "description": "Already withdrawn.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    return {
        "/api/v1/feedback": {
            "get": op(
                "Operators' verdicts",
                ("200", "FeedbackList", "Verdicts, newest first."),
                [
                    query("source", "Only this source_id."),
                    query("metric", "Only this metric_name."),
                    query("target", "", {"enum": list(TARGETS)}),
                    query("withdrawn", "true: include withdrawn verdicts.", bools),
                ],
            ),
            "post": op(
                "Record a verdict: true/false positive, or a missed incident on a range",
                ("201", "Feedback", "The verdict recorded."),
                body="FeedbackCreate",
            ),
        },
        "/api/v1/feedback/{feedback_id}": {
            "get": op(
                "One verdict",
                ("200", "Feedback", "The verdict."),
                [path("feedback_id")],
                not_found=True,
            ),
            "delete": withdraw_op,
        },
    }
