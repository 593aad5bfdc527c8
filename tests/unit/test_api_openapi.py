"""The OpenAPI document is valid OpenAPI 3.1, and its error schema takes the API's errors."""

from __future__ import annotations

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from padit_stream.api.errors import ApiError
from padit_stream.api.openapi import document


def test_document_is_valid_openapi_3_1() -> None:
    doc = document("1.2.3")
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert {p for p in doc["paths"]} >= {
        "/api/v1/series",
        "/api/v1/series/{source_id}/{metric_name}",
        "/api/v1/alerts",
        "/api/v1/alerts/{alert_id}",
        "/api/v1/silences",
        "/api/v1/silences/{silence_id}",
        "/api/v1/status",
    }


def test_error_schema_accepts_the_api_error_shape() -> None:
    doc = document("1")
    root = {"$ref": "#/components/schemas/Error", "components": doc["components"]}
    body = ApiError(400, "invalid_request", "bad", [("limit", "must be an integer")]).body()
    Draft202012Validator(root).validate(body)
    assert not Draft202012Validator(root).is_valid({"error": "flat text"})
