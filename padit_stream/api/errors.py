"""The API's one error shape, and the error that carries it to the response.

Every error answer is ``{"error": {"code", "message", "fields": [{"field", "message"}]}}``:
``code`` is snake_case for programs, ``message`` is for people, ``fields`` names each bad
input (one entry per field) on a 400.
"""

from __future__ import annotations

from typing import Any

from padit_stream.errors import PaditError

__all__ = ["ApiError", "FieldErrors", "error_body"]


def error_body(
    code: str, message: str, fields: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """The JSON document of one error answer.

    Example:
        >>> error_body("not_found", "no series", [("source", "unknown")])["error"]["fields"]
        [{'field': 'source', 'message': 'unknown'}]
    """
    return {
        "error": {
            "code": code,
            "message": message,
            "fields": [{"field": f, "message": m} for f, m in fields or ()],
        }
    }


class ApiError(PaditError):
    """An API request fails with ``status`` and the error shape's ``code`` and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields or ())
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.fields)

    @classmethod
    def not_found(cls, message: str) -> ApiError:
        return cls(404, "not_found", message)

    @classmethod
    def unavailable(cls, message: str) -> ApiError:
        return cls(503, "not_ready", message, headers={"Retry-After": "2"})


class FieldErrors:
    """Collects one message per bad field, then raises them together as one 400."""

    def __init__(self) -> None:
        self.fields: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        if all(f != field for f, _ in self.fields):
            self.fields.append((field, message))

    def raise_if_any(self, what: str = "invalid request") -> None:
        if self.fields:
            names = ", ".join(f for f, _ in self.fields)
            raise ApiError(400, "invalid_request", f"{what}: check {names}", self.fields)
