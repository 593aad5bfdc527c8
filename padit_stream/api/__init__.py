"""The operator API, ``/api/v1``: series, alerts, silences, status and its OpenAPI document.

One module per resource (:mod:`.series`, :mod:`.alerts`, :mod:`.silences`, :mod:`.status`),
with the error shape in :mod:`.errors`, tokens in :mod:`.auth` and the document in
:mod:`.openapi`. :func:`register` adds the views to the app; every worker serves them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

from faust.web import Request, Response

from padit_stream.api.alerts import AlertListView, AlertView
from padit_stream.api.auth import Tokens, check_bind
from padit_stream.api.base import ApiContext, ApiView
from padit_stream.api.errors import ApiError
from padit_stream.api.openapi import OpenApiView
from padit_stream.api.series import SeriesListView, SeriesView
from padit_stream.api.silences import SilenceListView, SilenceView
from padit_stream.api.status import StatusView
from padit_stream.stream import Stream

__all__ = ["PREFIX", "register"]

PREFIX = "/api/v1"


def _version() -> str:
    try:
        return version("padit")
    except PackageNotFoundError:
        return "0+unknown"


class NotFoundView(ApiView):
    """Any other path under the prefix: a 404 in the API's error shape."""

    async def _missing(self, request: Request) -> Response:
        raise ApiError.not_found(
            f"no such API path: {request.url.path} (see {PREFIX}/openapi.json)"
        )

    async def get(self, request: Request, **kwargs: str) -> Response:
        return await self._missing(request)

    async def post(self, request: Request, **kwargs: str) -> Response:
        return await self._missing(request)

    async def delete(self, request: Request, **kwargs: str) -> Response:
        return await self._missing(request)


def register(stream: Stream, env: Mapping[str, str] | None = None) -> None:
    """Add the API's views to ``stream.app``.

    Raises:
        ConfigError: the web server would listen beyond loopback without a token.
    """
    env = os.environ if env is None else env
    conf = stream.settings.app
    tokens = Tokens.from_env(env, conf.api_token_env, conf.api_write_token_env)
    check_bind(conf.web_host, tokens)
    app = stream.app
    app.padit_api = ApiContext(tokens=tokens, version=_version(), clock=time.time)
    page = app.page
    page(f"{PREFIX}/openapi.json")(OpenApiView)
    page(f"{PREFIX}/status")(StatusView)
    page(f"{PREFIX}/series")(SeriesListView)
    page(f"{PREFIX}/series/{{source_id}}/{{metric_name}}")(SeriesView)
    page(f"{PREFIX}/alerts")(AlertListView)
    page(f"{PREFIX}/alerts/{{alert_id}}")(AlertView)
    page(f"{PREFIX}/silences")(SilenceListView)
    page(f"{PREFIX}/silences/{{silence_id}}")(SilenceView)
    page(f"{PREFIX}/{{rest:.*}}")(NotFoundView)
