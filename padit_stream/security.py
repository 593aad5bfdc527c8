"""How PADIT's Kafka clients authenticate: TLS and SASL (PLAIN, SCRAM) settings.

One model, :class:`KafkaSecurity`, read from the ``kafka`` section of the settings or from
``PADIT_KAFKA_*`` environment variables, turned into the keyword arguments of plain aiokafka
clients (:func:`aiokafka_kwargs`) or into Faust's ``broker_credentials``
(:func:`faust_credentials`). Passwords never sit in the settings: only the name of the
environment variable (``password_env``) or of the file (``password_file``) that holds one.

>>> sec = KafkaSecurity(protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
...                     username="padit", password_env="PADIT_KAFKA_PASSWORD")
>>> kw = aiokafka_kwargs(sec, env={"PADIT_KAFKA_PASSWORD": "s3cret"})
>>> kw["security_protocol"], kw["sasl_mechanism"], kw["sasl_plain_username"]
('SASL_PLAINTEXT', 'SCRAM-SHA-512', 'padit')
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from padit_stream.configfile import config_error
from padit_stream.errors import ConfigError, PaditError

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT

__all__ = [
    "ENV_VARS",
    "KafkaAuthError",
    "KafkaSecurity",
    "KafkaUnreachableError",
    "aiokafka_kwargs",
    "check_connection",
    "faust_credentials",
    "resolve_password",
    "security_from_env",
    "ssl_context",
]

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

# Environment variable -> field, for processes that read no settings file (adapters, tools);
# the stream job's settings use the same names.
ENV_VARS: dict[str, str] = {
    "PADIT_KAFKA_SECURITY_PROTOCOL": "protocol",
    "PADIT_KAFKA_CA_FILE": "ca_file",
    "PADIT_KAFKA_CERT_FILE": "cert_file",
    "PADIT_KAFKA_KEY_FILE": "key_file",
    "PADIT_KAFKA_SASL_MECHANISM": "sasl_mechanism",
    "PADIT_KAFKA_USERNAME": "username",
    "PADIT_KAFKA_PASSWORD_ENV": "password_env",
    "PADIT_KAFKA_PASSWORD_FILE": "password_file",
}


class KafkaAuthError(PaditError):
    """The broker refused the TLS handshake or the SASL login: a configuration mistake."""


class KafkaUnreachableError(PaditError):
    """No bootstrap server could be reached (down, wrong address, another protocol's port)."""


class KafkaSecurity(BaseModel):
    """TLS and SASL settings of the Kafka clients; the default is plain TCP, no login."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    protocol: Protocol = "PLAINTEXT"
    # PEM files. No CA file: the system's trust store.
    ca_file: Path | None = None
    # A client certificate and its key, for brokers that ask for one (ssl.client.auth).
    cert_file: Path | None = None
    key_file: Path | None = None
    sasl_mechanism: Mechanism | None = None
    username: str | None = Field(None, min_length=1)
    # The password is read from this environment variable, or from this file, when a client is
    # built: never written in the settings.
    password_env: str | None = Field(None, min_length=1)
    password_file: Path | None = None

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSecurity:
        if self.uses_sasl:
            missing = [k for k in ("sasl_mechanism", "username") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"{' and '.join(missing)} required with protocol {self.protocol}")
            if (self.password_env is None) == (self.password_file is None):
                raise ValueError(
                    f"exactly one of password_env or password_file required with protocol "
                    f"{self.protocol}"
                )
        else:
            extra = [
                k
                for k in ("sasl_mechanism", "username", "password_env", "password_file")
                if getattr(self, k) is not None
            ]
            if extra:
                raise ValueError(
                    f"{', '.join(extra)} only apply to SASL_PLAINTEXT or SASL_SSL "
                    f"(protocol is {self.protocol})"
                )
        tls_files = [k for k in ("ca_file", "cert_file", "key_file") if getattr(self, k)]
        if tls_files and not self.uses_tls:
            raise ValueError(
                f"{', '.join(tls_files)} only apply to SSL or SASL_SSL "
                f"(protocol is {self.protocol})"
            )
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


def security_from_env(env: Mapping[str, str] | None = None) -> KafkaSecurity:
    """The settings from ``PADIT_KAFKA_*`` variables (see :data:`ENV_VARS`); none set: PLAINTEXT.

    Raises:
        ConfigError: naming the environment variable(s) and what was expected.
    """
    env = os.environ if env is None else env
    raw = {field: env[var] for var, field in ENV_VARS.items() if env.get(var)}
    try:
        return KafkaSecurity.model_validate(raw)
    except ValidationError as exc:
        set_by: dict[tuple[str, ...], str] = {
            (field,): var for var, field in ENV_VARS.items() if env.get(var)
        }
        source = "environment variables " + ", ".join(sorted(set_by.values()))
        raise config_error(exc, source, env_keys=set_by) from exc


def resolve_password(
    sec: KafkaSecurity, env: Mapping[str, str] | None = None, *, where: str = "kafka"
) -> str:
    """The SASL password, from ``password_env`` or ``password_file``.

    Raises:
        ConfigError: naming the key (``{where}.password_env``...) when it cannot be had.
    """
    env = os.environ if env is None else env
    if sec.password_env is not None:
        value = env.get(sec.password_env)
        if not value:
            raise ConfigError(
                f"{where}.password_env: environment variable {sec.password_env} "
                f"{'is empty' if value == '' else 'is not set'} (expected the SASL password)"
            )
        return value
    if sec.password_file is not None:
        try:
            text = sec.password_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{where}.password_file: cannot read {sec.password_file}: {exc}"
            ) from exc
        # Secret files mounted by Kubernetes or written by `echo` end with one newline.
        password = text.removesuffix("\n").removesuffix("\r")
        if not password:
            raise ConfigError(f"{where}.password_file: {sec.password_file} is empty")
        return password
    raise ConfigError(f"{where}: no password_env or password_file (protocol {sec.protocol})")


def ssl_context(sec: KafkaSecurity, *, where: str = "kafka") -> ssl.SSLContext | None:
    """A verifying TLS client context (hostname checked), or None without TLS.

    Raises:
        ConfigError: naming the key of a file that cannot be read or is not valid PEM.
    """
    if not sec.uses_tls:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if sec.ca_file is not None:
        try:
            ctx.load_verify_locations(cafile=str(sec.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"{where}.ca_file: cannot load CA certificates from {sec.ca_file}: {exc}"
            ) from exc
    if sec.cert_file is not None and sec.key_file is not None:
        try:
            ctx.load_cert_chain(certfile=str(sec.cert_file), keyfile=str(sec.key_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"{where}.cert_file/{where}.key_file: cannot load the client certificate "
                f"{sec.cert_file} with key {sec.key_file}: {exc}"
            ) from exc
    return ctx


def aiokafka_kwargs(
    sec: KafkaSecurity, env: Mapping[str, str] | None = None, *, where: str = "kafka"
) -> dict[str, Any]:
    """Keyword arguments for ``AIOKafkaProducer``/``AIOKafkaConsumer``/``AIOKafkaAdminClient``.

    Raises:
        ConfigError: a password that cannot be had, a TLS file that cannot be loaded.
    """
    kwargs: dict[str, Any] = {"security_protocol": sec.protocol}
    ctx = ssl_context(sec, where=where)
    if ctx is not None:
        kwargs["ssl_context"] = ctx
    if sec.uses_sasl:
        kwargs["sasl_mechanism"] = sec.sasl_mechanism
        kwargs["sasl_plain_username"] = sec.username
        kwargs["sasl_plain_password"] = resolve_password(sec, env, where=where)
    return kwargs


def faust_credentials(
    sec: KafkaSecurity, env: Mapping[str, str] | None = None, *, where: str = "kafka"
) -> CredentialsT | None:
    """``broker_credentials`` for ``faust.App``: None for PLAINTEXT.

    Raises:
        ConfigError: a password that cannot be had, a TLS file that cannot be loaded.
    """
    if sec.protocol == "PLAINTEXT":
        return None
    # Faust only where a Faust app is built: adapters and tools use aiokafka_kwargs.
    import faust

    ctx = ssl_context(sec, where=where)
    if not sec.uses_sasl:
        return faust.SSLCredentials(ctx)
    # A context makes faust pick SASL_SSL, none SASL_PLAINTEXT.
    return faust.SASLCredentials(
        username=sec.username,
        password=resolve_password(sec, env, where=where),
        ssl_context=ctx,
        mechanism=sec.sasl_mechanism,
    )


def _hosts(bootstrap: str) -> list[tuple[str, int]]:
    hosts = []
    for item in bootstrap.removeprefix("kafka://").replace(";", ",").split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"bootstrap {bootstrap!r}: expected HOST:PORT[,HOST:PORT...]")
        hosts.append((host.strip("[]"), int(port)))
    return hosts


async def check_connection(
    bootstrap: str,
    sec: KafkaSecurity,
    env: Mapping[str, str] | None = None,
    *,
    timeout: float = 10.0,
    where: str = "kafka",
) -> None:
    """Open one connection (TLS handshake and SASL login included) to a bootstrap server.

    aiokafka and Faust only log why a login failed and go on retrying; this says it once, so a
    worker or adapter can stop at start with the reason.

    Raises:
        KafkaAuthError: a server answered but refused the certificate or the credentials.
        KafkaUnreachableError: no server answered.
        ConfigError: the settings themselves (password, files, bootstrap) are unusable.
    """
    from aiokafka.conn import create_conn
    from aiokafka.errors import KafkaError, SaslAuthenticationFailed, UnsupportedSaslMechanismError

    kwargs = aiokafka_kwargs(sec, env, where=where)
    unreachable = []
    for host, port in _hosts(bootstrap):
        try:
            conn = await asyncio.wait_for(
                create_conn(host, port, request_timeout_ms=int(timeout * 1000), **kwargs), timeout
            )
        except ssl.SSLCertVerificationError as exc:
            trust = f"{where}.ca_file {sec.ca_file}" if sec.ca_file else "the system trust store"
            raise KafkaAuthError(
                f"{host}:{port}: TLS: the broker's certificate is not trusted "
                f"({exc.verify_message}; checked against {trust})"
            ) from exc
        except ssl.SSLError as exc:
            # A peer that just hangs up mid-handshake is not a TLS listener refusing us.
            if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
                unreachable.append(f"{host}:{port}: {exc}")
                continue
            raise KafkaAuthError(f"{host}:{port}: TLS handshake failed: {exc}") from exc
        except (SaslAuthenticationFailed, UnsupportedSaslMechanismError) as exc:
            raise KafkaAuthError(
                f"{host}:{port}: SASL {sec.sasl_mechanism} login as {sec.username!r} refused "
                f"({where}.username / {where}.password_env or password_file): {exc}"
            ) from exc
        except (OSError, KafkaError) as exc:  # TimeoutError is an OSError
            unreachable.append(f"{host}:{port}: {str(exc) or type(exc).__name__}")
            continue
        conn.close()
        return
    raise KafkaUnreachableError(
        f"no Kafka bootstrap server could be reached over {sec.protocol} (down, wrong address, "
        f"or a listener of another protocol): " + "; ".join(unreachable)
    )
