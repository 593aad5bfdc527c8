"""The OpenAPI 3.1 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

The tests validate it with openapi-spec-validator and check every answer they get against
its schemas, so it describes what the views return, not what they were meant to.
"""

from __future__ import annotations

from typing import Any

from faust.web import Request, Response

from padit_stream.api.base import ApiView
from padit_stream.api.openapi_schemas import SCHEMAS, TIME, ref

__all__ = ["OpenApiView", "document"]


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


_ERRORS = {
    "400": _json("Error", "Invalid input: one entry in error.fields per bad field."),
    "401": _json("Error", "No credentials: send Authorization: Bearer <token>."),
    "403": _json("Error", "Wrong credentials (or a read-only token for a change)."),
    "503": _json("Error", "Partitions are moving or recovering: ask again shortly."),
}


def _q(
    name: str, description: str, schema: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
        **kw,
    }


def _p(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _op(
    summary: str,
    ok: tuple[str, str, str],
    params: list[dict[str, Any]] | None = None,
    body: str | None = None,
    not_found: bool = False,
) -> dict[str, Any]:
    status, schema, description = ok
    responses = {status: _json(schema, description), **_ERRORS}
    if not_found:
        responses["404"] = _json("Error", "Unknown id.")
    op: dict[str, Any] = {"summary": summary, "parameters": params or [], "responses": responses}
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    return op


def document(version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    bools = {"enum": ["true", "false"]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PADIT operator API",
            "version": version,
            "description": "Series, alerts, silences and status of a PADIT stream job. Times "
            "are RFC 3339. Every error has the shape of the Error schema.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/api/v1/series": {
                "get": _op(
                    "Every (source, metric) series the cluster holds",
                    ("200", "SeriesList", "A page of series in (source_id, metric_name) order."),
                    [
                        _q("source", "Only this source_id."),
                        _q("metric", "Only this metric_name."),
                        _q(
                            "match",
                            'Alertmanager matcher on labels, e.g. site=~"par.*"; '
                            "repeatable (all must match).",
                            {"type": "array", "items": {"type": "string"}},
                            style="form",
                            explode=True,
                        ),
                        _q(
                            "state",
                            "Only series in this state.",
                            {"enum": ["ok", "anomalous", "alerting", "stale"]},
                        ),
                        _q(
                            "limit",
                            "Page size.",
                            {"type": "integer", "minimum": 1, "maximum": 1000},
                        ),
                        _q("cursor", "next_cursor of the previous page."),
                    ],
                )
            },
            "/api/v1/series/{source_id}/{metric_name}": {
                "get": _op(
                    "One series: window, features, explanation, history, alert intervals",
                    ("200", "SeriesDetail", "The series."),
                    [
                        _p("source_id"),
                        _p("metric_name"),
                        _q("since", "History from this time.", TIME),
                        _q("until", "History up to this time.", TIME),
                    ],
                    not_found=True,
                )
            },
            "/api/v1/alerts": {
                "get": _op(
                    "Alerts (pending, firing and recently resolved)",
                    ("200", "AlertList", "Alerts, newest first."),
                    [
                        _q("status", "", {"enum": ["firing", "pending", "resolved"]}),
                        _q("severity", ""),
                        _q("source", "Only alerts of this source_id."),
                        _q("receiver", "Only alerts routed to this receiver."),
                        _q("silenced", "", bools),
                        _q("inhibited", "", bools),
                    ],
                )
            },
            "/api/v1/alerts/{alert_id}": {
                "get": _op(
                    "One alert with its timeline and the notifications sent",
                    ("200", "AlertDetail", "The alert."),
                    [_p("alert_id")],
                    not_found=True,
                )
            },
            "/api/v1/silences": {
                "get": _op(
                    "Silences",
                    ("200", "SilenceList", "Silences."),
                    [
                        _q("filter", 'Matchers a silence must have, e.g. {source_id="du-1"}.'),
                        _q("expired", "true: include expired silences.", bools),
                    ],
                ),
                "post": _op(
                    "Create a silence",
                    ("201", "SilenceCreated", "The new silence's id."),
                    body="SilenceCreate",
                ),
            },
            "/api/v1/silences/{silence_id}": {
                "get": _op(
                    "One silence",
                    ("200", "Silence", "The silence."),
                    [_p("silence_id")],
                    not_found=True,
                ),
                "delete": _op(
                    "Expire a silence now",
                    ("200", "Silence", "The expired silence."),
                    [_p("silence_id")],
                    not_found=True,
                ),
            },
            "/api/v1/status": {
                "get": _op(
                    "Version, configuration, members, ownership and lag",
                    ("200", "Status", "The cluster's status."),
                ),
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {}},
                        }
                    },
                }
            },
        },
    }


class OpenApiView(ApiView):
    """``GET /api/v1/openapi.json`` (no token needed: it holds no state)."""

    public = True

    async def get(self, request: Request) -> Response:
        return self.answer(document(self.ctx.version))
