"""An HTTP client for the API tests that checks every answer against the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec


class OpenApi:
    """The served document, validated, and a checker of answers against it."""

    def __init__(self, doc: dict[str, Any]) -> None:
        validate_spec(doc)  # raises on an invalid OpenAPI 3.1 document
        self.doc = doc
        self.checked = 0
        self._paths = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in doc["paths"]
        ]

    def template(self, path: str) -> str:
        for pattern, template in self._paths:
            if pattern.match(path):
                return template
        raise AssertionError(f"{path} is not in the OpenAPI document")

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        """Validate ``body`` against the schema the document gives for this answer."""
        op = self.doc["paths"][self.template(path)][method.lower()]
        response = op["responses"].get(str(status))
        assert response is not None, f"{method} {path} answered {status}, not documented"
        schema = response["content"]["application/json"].get("schema")
        if schema is None:
            return
        root = {**schema, "components": self.doc["components"]}
        Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
            body
        )
        self.checked += 1


class Api:
    """``httpx.AsyncClient`` calls on one worker; every JSON answer is checked."""

    def __init__(self, client: httpx.AsyncClient, base: str, spec: OpenApi, token: str | None):
        self.client = client
        self.base = base
        self.spec = spec
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def call(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        r = await self.client.request(
            method,
            f"{self.base}{path}",
            headers=headers if headers is not None else self.headers,
            **kw,
        )
        if path.startswith("/api/v1/") and r.status_code != 307 and r.status_code != 308:
            self.spec.check(method, path.split("?")[0], r.status_code, r.json())
        return r

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.call("GET", path, **kw)
