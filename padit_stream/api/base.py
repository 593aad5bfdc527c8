"""The base of every API view: authentication, the error shape, JSON out, and asking the
worker that owns a partition (or every member of the group) when this one does not.

Each view reads the worker's state from ``app.padit`` (:class:`padit_stream.stream.Stream`)
and the API's own context from ``app.padit_api`` (:class:`ApiContext`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from faust.web import Request, Response, View

from padit_stream.api.auth import Tokens
from padit_stream.api.errors import ApiError
from padit_stream.api.query import Params
from padit_stream.cluster import is_local, local_url, owner_of, recovered
from padit_stream.stream import Stream

__all__ = ["LOCAL_HEADER", "ApiContext", "ApiView", "members"]

logger = logging.getLogger(__name__)

#: Set on a request one worker forwards to another: answer it here, from local state.
LOCAL_HEADER = "x-padit-local"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORWARDED = ("authorization", "content-type")
_FAN_OUT_TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass
class ApiContext:
    """What the API views share beyond the stream: tokens and the clock."""

    tokens: Tokens
    version: str
    clock: Callable[[], float]


def members(app: Any, tables: list[Any]) -> list[str]:
    """Web URLs of the workers that hold a partition of any of ``tables``, and this one."""
    urls = {local_url(app)}
    for table in tables:
        urls.update(str(url).rstrip("/") for url in app.router.table_metadata(table.name))
    return sorted(urls)


class ApiView(View):
    """Authenticates, turns :class:`ApiError` into the error shape, answers JSON."""

    #: Served without a token (documents that hold no state).
    public = False

    @property
    def stream(self) -> Stream:
        stream: Stream = self.app.padit  # type: ignore[attr-defined]
        return stream

    @property
    def ctx(self) -> ApiContext:
        ctx: ApiContext = self.app.padit_api  # type: ignore[attr-defined]
        return ctx

    async def dispatch(self, request: Any) -> Any:
        try:
            if not self.public:
                self.ctx.tokens.check(
                    request.headers.get("authorization"), write=request.method in _WRITES
                )
            return await super().dispatch(request)
        except ApiError as exc:
            return self.error_response(exc)
        except Exception:
            logger.exception("API request %s %s failed", request.method, request.path)
            return self.error_response(
                ApiError(500, "internal_error", "the worker failed on this request (see its log)")
            )

    def error_response(self, exc: ApiError) -> Response:
        return self.answer(exc.body(), status=exc.status, headers=exc.headers)

    def answer(
        self, body: Any, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        return self.bytes(
            orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
            content_type="application/json",
            status=status,
            headers=headers,
        )

    @staticmethod
    def params(request: Request) -> Params:
        query = request.query
        getall = {k: query.getall(k) for k in set(query.keys())}  # type: ignore[attr-defined]
        return Params(query, getall)

    def check_ready(self) -> None:
        if self.app.rebalancing or not recovered(self.app):
            raise ApiError.unavailable("partitions are moving or recovering; ask again shortly")

    def local_partitions(self, table: Any) -> list[int]:
        """Partitions of ``table`` this worker holds actively."""
        topic = table.changelog_topic.get_topic_name()
        me = local_url(self.app)
        for url, topics in self.app.router.table_metadata(table.name).items():
            if str(url).rstrip("/") == me:
                return sorted(topics.get(topic, ()))
        return []

    async def to_owner(self, request: Request, table: Any, partition: int) -> Response | None:
        """``None`` when this worker owns ``partition`` of ``table``, else the owner's answer."""
        owner = owner_of(self.app, table, partition)
        if owner is None:
            raise ApiError.unavailable("partitions are not assigned yet; ask again shortly")
        if is_local(self.app, owner):
            return None
        if request.headers.get(LOCAL_HEADER):
            # One hop only: during a rebalance two workers may briefly disagree on the owner.
            raise ApiError.unavailable("partition ownership is moving; ask again shortly")
        status, body = await self._ask(request, owner, request.url.path_qs)
        return self.bytes(body, content_type="application/json", status=status)

    async def _ask(self, request: Request, url: str, path_qs: str) -> tuple[int, bytes]:
        headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED}
        headers[LOCAL_HEADER] = "1"
        data = await request.read() if request.method in _WRITES else None
        try:
            async with self.app.http_client.request(
                request.method,
                f"{url}{path_qs}",
                headers=headers,
                data=data or None,
                timeout=_FAN_OUT_TIMEOUT,
            ) as response:
                return response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The worker died or is leaving: the group reassigns its partitions shortly.
            raise ApiError.unavailable(f"worker {url} did not answer ({exc}); ask again") from exc

    async def fan_out(
        self, request: Request, local: Callable[[], Any], tables: list[Any]
    ) -> list[Any]:
        """The local answer and every other member's answer to the same request (JSON).

        A member's error is raised as this request's error.
        """
        me = local_url(self.app)
        others = [url for url in members(self.app, tables) if url != me]
        answers = await asyncio.gather(
            *(self._ask(request, url, request.url.path_qs) for url in others)
        )
        docs = [local()]
        for url, (status, body) in zip(others, answers, strict=True):
            try:
                doc = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise ApiError.unavailable(f"worker {url} answered {status} without JSON") from exc
            if status != 200:
                error = doc.get("error", {}) if isinstance(doc, dict) else {}
                raise ApiError(
                    status,
                    str(error.get("code", "not_ready")),
                    f"worker {url}: {error.get('message', 'failed')}",
                    [(f["field"], f["message"]) for f in error.get("fields", [])],
                )
            docs.append(doc)
        return docs
