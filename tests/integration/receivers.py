"""Real receivers on loopback for the notifier tests: an HTTP server that records every
request and answers from a script, and an SMTP server (aiosmtpd) that records messages.

Both listen on 127.0.0.1 with a port from the OS, run in the test's event loop, and can
go down (connection refused) and come back on the same port.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["HttpReceiver", "Recorded", "Reply", "SmtpReceiver"]


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"


@dataclass
class Recorded:
    """One request as received, with the status it was answered with."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class HttpReceiver:
    """Records requests; answers with ``script`` replies first, then ``default``.

    ``default`` may be a callable of the request body, to answer like a real service.
    """

    def __init__(self, default: Reply | Callable[[bytes], Reply] | None = None) -> None:
        self.default = default or Reply()
        self.script: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.script:
            reply = self.script.popleft()
        elif callable(self.default):
            reply = self.default(body)
        else:
            reply = self.default
        self.requests.append(
            Recorded(request.method, request.path, dict(request.headers), body, reply.status)
        )
        return web.Response(
            status=reply.status,
            text=reply.body,
            headers=reply.headers,
            content_type=reply.content_type,
        )

    async def start(self) -> HttpReceiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        if not self.port:
            self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def go_down(self) -> None:
        """Stop listening: clients get connection refused."""
        await self.stop()

    async def come_back(self) -> None:
        """Listen again on the same port."""
        await self.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def accepted(self) -> list[Recorded]:
        """Requests answered with a 2xx status: what the receiver took."""
        return [r for r in self.requests if 200 <= r.status < 300]


class _Handler:
    def __init__(self, owner: SmtpReceiver) -> None:
        self.owner = owner

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.owner.script:
            reply = self.owner.script.popleft()
            if not reply.startswith("250"):
                self.owner.refused += 1
                return reply
        content = envelope.original_content or b""
        self.owner.messages.append(
            (
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                message_from_bytes(content, policy=policy.default),
            )
        )
        self.owner.tls_used.append(session.ssl is not None)
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """An aiosmtpd server recording accepted messages.

    With ``tls_context`` it offers STARTTLS; with ``credentials`` it requires AUTH (over
    TLS). ``script`` holds replies to the next DATA commands (e.g. ``"451 try later"``).
    """

    def __init__(
        self,
        tls_context: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.tls_context = tls_context
        self.credentials = credentials
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.tls_used: list[bool] = []
        self.script: deque[str] = deque()
        self.refused = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            self.credentials is not None
            and isinstance(data, LoginPassword)
            and (data.login.decode(), data.password.decode()) == self.credentials
        )
        # handled=False: let aiosmtpd answer 535 itself on failure.
        return AuthResult(success=ok, handled=False)

    def _protocol(self) -> SMTP:
        return SMTP(
            _Handler(self),
            hostname="receiver.test",
            tls_context=self.tls_context,
            require_starttls=self.tls_context is not None,
            authenticator=self._authenticate if self.credentials else None,
            auth_required=self.credentials is not None,
            auth_require_tls=True,
            loop=asyncio.get_running_loop(),
        )

    async def start(self) -> SmtpReceiver:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, "127.0.0.1", self.port, reuse_address=True
        )
        if not self.port:
            self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def go_down(self) -> None:
        await self.stop()

    async def come_back(self) -> None:
        await self.start()

    @property
    def smarthost(self) -> str:
        return f"127.0.0.1:{self.port}"
