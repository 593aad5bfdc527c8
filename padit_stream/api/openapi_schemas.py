"""The schemas of the OpenAPI document (``components.schemas``): what each answer holds."""

from __future__ import annotations

from typing import Any

__all__ = ["LABELS", "NTIME", "NUM", "SCHEMAS", "TIME", "obj", "ref"]

TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": ["string", "null"], "format": "date-time"}
NUM = {"type": ["number", "null"]}
LABELS = {"type": "object", "additionalProperties": {"type": "string"}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(
    props: dict[str, Any], required: list[str] | None = None, extra: bool = False
) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        "additionalProperties": extra,
    }


SCHEMAS: dict[str, Any] = {
    "Error": obj(
        {
            "error": obj(
                {
                    "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "array",
                        "items": obj({"field": {"type": "string"}, "message": {"type": "string"}}),
                    },
                }
            )
        }
    ),
    "SeriesItem": obj(
        {
            "source_id": {"type": "string"},
            "metric_name": {"type": "string"},
            "labels": LABELS,
            "last_value": NUM,
            "last_time": NTIME,
            "last_score": NUM,
            "state": {"enum": ["ok", "anomalous", "alerting", "stale"]},
            "detector": {"type": ["string", "null"]},
            "alert_state": {"enum": ["inactive", "pending", "firing"]},
        }
    ),
    "SeriesList": obj(
        {
            "items": {"type": "array", "items": ref("SeriesItem")},
            "next_cursor": {"type": ["string", "null"]},
        }
    ),
    "HistoryPoint": obj({"time": TIME, "min": NUM, "mean": NUM, "max": NUM, "score_max": NUM}),
    "AlertInterval": obj(
        {
            "alert_id": {"type": "string"},
            "starts_at": TIME,
            "ends_at": NTIME,
            "severity": {"type": "string"},
        }
    ),
    "SeriesDetail": obj(
        {
            "source_id": {"type": "string"},
            "metric_name": {"type": "string"},
            "labels": LABELS,
            "window": obj(
                {
                    "count": {"type": "integer", "minimum": 0},
                    "first_time": NTIME,
                    "last_time": NTIME,
                    "span_sec": {"type": "number"},
                }
            ),
            "features": {
                "type": ["object", "null"],
                "additionalProperties": {"type": ["number", "null"]},
            },
            "explanation": obj(
                {
                    "detector": {"type": ["string", "null"]},
                    "score": NUM,
                    "time": NTIME,
                    "evidence": {"type": "object"},
                }
            ),
            "history": {"type": "array", "items": ref("HistoryPoint")},
            "alert_intervals": {"type": "array", "items": ref("AlertInterval")},
        }
    ),
    "Lag": obj(
        {
            "topic": {"type": "string"},
            "partition": {"type": "integer"},
            "worker": {"type": "string"},
            "end_offset": {"type": ["integer", "null"]},
            "committed_offset": {"type": ["integer", "null"]},
            "lag": {"type": ["integer", "null"]},
        }
    ),
    "Status": obj(
        {
            "version": {"type": "string"},
            "worker": {"type": "string"},
            "ready": {"type": "object"},
            "config": {"type": "object", "description": "The settings, secrets redacted."},
            "members": {"type": "array", "items": {"type": "string"}},
            "partitions": {
                "type": "object",
                "description": "table -> worker URL -> partitions it holds actively",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "integer"}},
                },
            },
            "consumer_lag": {"type": "array", "items": ref("Lag")},
        }
    ),
    "Alert": obj(
        {
            "id": {"type": "string"},
            "fingerprint": {"type": "string"},
            "labels": LABELS,
            "annotations": LABELS,
            "status": {"enum": ["firing", "pending", "resolved"]},
            "severity": {"type": "string"},
            "starts_at": NTIME,
            "ends_at": NTIME,
            "silenced_by": {"type": "array", "items": {"type": "string"}},
            "inhibited_by": {"type": "array", "items": {"type": "string"}},
            "receivers": {"type": "array", "items": {"type": "string"}},
            "group_key": {"type": ["string", "null"]},
            "generator_url": {"type": "string"},
        }
    ),
    "AlertList": obj({"items": {"type": "array", "items": ref("Alert")}}),
    "AlertDetail": {"$comment": "Alert plus timeline and notifications (filled below)"},
    "Matcher": obj(
        {
            "name": {"type": "string"},
            "value": {"type": "string"},
            "isRegex": {"type": "boolean"},
            "isEqual": {"type": "boolean"},
        }
    ),
    "Silence": obj(
        {
            "id": {"type": "string"},
            "matchers": {"type": "array", "items": ref("Matcher")},
            "matchers_text": {"type": "string"},
            "starts_at": TIME,
            "ends_at": TIME,
            "created_by": {"type": "string"},
            "comment": {"type": "string"},
            "status": {"enum": ["pending", "active", "expired"]},
        },
        extra=True,
    ),
    "SilenceList": obj({"items": {"type": "array", "items": ref("Silence")}}),
    "SilenceCreate": obj(
        {
            "matchers": {
                "oneOf": [
                    {"type": "string", "examples": ['{source_id="du-2",metric_name=~"rtt.*"}']},
                    {"type": "array", "items": {"type": "string"}, "minItems": 1},
                ]
            },
            "starts_at": TIME,
            "ends_at": TIME,
            "created_by": {"type": "string"},
            "comment": {"type": "string"},
        },
        required=["matchers", "ends_at", "created_by"],
        extra=True,
    ),
    "SilenceCreated": obj({"id": {"type": "string"}}),
}

SCHEMAS["AlertDetail"] = obj(
    {
        **SCHEMAS["Alert"]["properties"],
        "timeline": {
            "type": "array",
            "items": obj({"time": TIME, "event": {"type": "string"}}, extra=True),
        },
        "notifications": {
            "type": "array",
            "items": obj(
                {
                    "time": TIME,
                    "receiver": {"type": "string"},
                    "integration": {"type": "string"},
                    "outcome": {"type": "string"},
                },
                extra=True,
            ),
        },
    }
)
