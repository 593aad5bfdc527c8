"""Bearer tokens of the API: one for reads, optionally a separate one for changes.

``PADIT_API_TOKEN`` (the variable named by ``app.api_token_env``) guards every request;
``PADIT_API_WRITE_TOKEN`` (``app.api_write_token_env``), when set, is the only token that
may change state (POST, DELETE), and it may read too. Without any token the API is open,
which is allowed on a loopback address only: :func:`check_bind` refuses to start otherwise.
The dashboard keeps the token in session storage and sends it as a header, never a cookie,
so a browser never attaches it on its own (no CSRF surface).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from padit_stream.api.errors import ApiError
from padit_stream.errors import ConfigError

__all__ = ["Tokens", "check_bind", "is_loopback"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="padit"'}


@dataclass(frozen=True)
class Tokens:
    """The tokens in force and the variables they come from (for messages)."""

    read: str = ""
    write: str = ""
    read_env: str = "PADIT_API_TOKEN"
    write_env: str = "PADIT_API_WRITE_TOKEN"

    @classmethod
    def from_env(cls, env: Mapping[str, str], read_env: str, write_env: str) -> Tokens:
        return cls(env.get(read_env, ""), env.get(write_env, ""), read_env, write_env)

    @property
    def any(self) -> bool:
        return bool(self.read or self.write)

    def check(self, authorization: str | None, *, write: bool) -> None:
        """Let the request through, or raise 401 (no credentials) or 403 (wrong ones).

        Example:
            >>> Tokens(read="r", write="w").check("Bearer w", write=True)
            >>> Tokens(read="r", write="w").check("Bearer r", write=True)
            Traceback (most recent call last):
            ...
            padit_stream.api.errors.ApiError: the token given may read but not change state \
(changes need the token in PADIT_API_WRITE_TOKEN)
        """
        if write:
            accepted = [self.write or self.read] if self.any else []
        else:
            accepted = [t for t in (self.read, self.write) if t] if self.read else []
        if not accepted:
            return
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise ApiError(
                401,
                "unauthorized",
                "credentials required: send 'Authorization: Bearer <token>'",
                headers=_CHALLENGE,
            )
        token = given.strip().encode()
        if any(hmac.compare_digest(token, t.encode()) for t in accepted):
            return
        if write and self.write and self.read and hmac.compare_digest(token, self.read.encode()):
            raise ApiError(
                403,
                "forbidden",
                "the token given may read but not change state "
                f"(changes need the token in {self.write_env})",
            )
        raise ApiError(403, "forbidden", "the token given is not valid for this API")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``).

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def check_bind(host: str, tokens: Tokens) -> None:
    """Refuse to serve the API beyond this machine without a token.

    Raises:
        ConfigError: ``host`` is not a loopback address and no token is set.
    """
    if is_loopback(host) or tokens.read:
        return
    only_write = " (only a write token is set, so reads would be open)" if tokens.write else ""
    raise ConfigError(
        f"refusing to start: the web server would listen on {host!r}, which other machines "
        f"can reach, and the API has no token{only_write}: anyone could read the "
        f"stream's state and silence alerts. Set {tokens.read_env} (and optionally "
        f"{tokens.write_env} for changes), or bind to 127.0.0.1 (PADIT_WEB_HOST)."
    )
