"""KafkaSecurity: validation, password lookup, aiokafka and Faust arguments (no I/O)."""

from __future__ import annotations

import ssl
from typing import Any

import pytest
from pydantic import ValidationError

from padit_stream.errors import ConfigError
from padit_stream.security import (
    KafkaSecurity,
    aiokafka_kwargs,
    faust_credentials,
    resolve_password,
    security_from_env,
)

SCRAM: dict[str, Any] = {
    "protocol": "SASL_PLAINTEXT",
    "sasl_mechanism": "SCRAM-SHA-512",
    "username": "padit",
    "password_env": "PADIT_KAFKA_PASSWORD",
}
ENV = {"PADIT_KAFKA_PASSWORD": "pw-from-env"}


def test_default_is_plaintext_without_credentials() -> None:
    sec = KafkaSecurity()
    assert aiokafka_kwargs(sec, env={}) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(sec, env={}) is None


def test_a_password_in_the_settings_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        KafkaSecurity.model_validate({**SCRAM, "password": "s3cret"})
    [err] = info.value.errors()
    assert err["loc"] == ("password",) and err["type"] == "extra_forbidden"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": None}, "username required with protocol SASL_PLAINTEXT"),
        ({"sasl_mechanism": None}, "sasl_mechanism required"),
        ({"password_env": None}, "exactly one of password_env or password_file"),
        ({"password_file": "/run/secrets/kafka"}, "exactly one of password_env or password_file"),
        ({"protocol": "PLAINTEXT"}, "only apply to SASL_PLAINTEXT or SASL_SSL"),
        ({"protocol": "SSL"}, "only apply to SASL_PLAINTEXT or SASL_SSL (protocol is SSL)"),
        ({"ca_file": "/ca.pem"}, "ca_file only apply to SSL or SASL_SSL"),
        ({"protocol": "SASL_SSL", "cert_file": "/c.pem"}, "cert_file and key_file go together"),
        ({"sasl_mechanism": "SCRAM-SHA-1"}, "'PLAIN', 'SCRAM-SHA-256' or 'SCRAM-SHA-512'"),
        ({"protocol": "TLS"}, "'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT' or 'SASL_SSL'"),
    ],
)
def test_inconsistent_settings_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        KafkaSecurity.model_validate({**SCRAM, **fields})
    assert message in str(info.value)


def test_password_comes_from_the_named_variable() -> None:
    sec = KafkaSecurity.model_validate(SCRAM)
    assert resolve_password(sec, env=ENV) == "pw-from-env"


@pytest.mark.parametrize(
    ("env", "state"), [({}, "is not set"), ({"PADIT_KAFKA_PASSWORD": ""}, "is empty")]
)
def test_missing_password_variable_names_key_and_variable(env: dict[str, str], state: str) -> None:
    sec = KafkaSecurity.model_validate(SCRAM)
    with pytest.raises(ConfigError) as info:
        aiokafka_kwargs(sec, env=env, where="app.kafka")
    text = str(info.value)
    assert text.startswith("app.kafka.password_env: environment variable PADIT_KAFKA_PASSWORD")
    assert state in text


def test_sasl_plaintext_kwargs() -> None:
    sec = KafkaSecurity.model_validate({**SCRAM, "sasl_mechanism": "SCRAM-SHA-256"})
    assert aiokafka_kwargs(sec, env=ENV) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "padit",
        "sasl_plain_password": "pw-from-env",
    }


def test_tls_context_verifies_the_broker() -> None:
    kw = aiokafka_kwargs(KafkaSecurity(protocol="SSL"), env={})
    ctx = kw["ssl_context"]
    assert kw["security_protocol"] == "SSL"
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


def test_faust_credentials_agree_with_aiokafka_kwargs() -> None:
    """What Faust hands to aiokafka is what plain aiokafka clients get."""
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    for fields in ({"protocol": "SASL_SSL"}, {"protocol": "SASL_PLAINTEXT"}, {}):
        sec = KafkaSecurity.model_validate({**SCRAM, **fields})
        via_faust = dict(credentials_to_aiokafka_auth(faust_credentials(sec, env=ENV)))
        direct = aiokafka_kwargs(sec, env=ENV)
        # One context each: compare what they check, not the objects.
        ctx_faust, ctx_direct = via_faust.pop("ssl_context"), direct.pop("ssl_context", None)
        assert (ctx_faust is None) == (ctx_direct is None) == (sec.protocol != "SASL_SSL")
        assert via_faust == direct


def test_faust_ssl_credentials() -> None:
    import faust

    creds = faust_credentials(KafkaSecurity(protocol="SSL"), env={})
    assert isinstance(creds, faust.SSLCredentials)
    assert creds.protocol.value == "SSL"
    assert creds.context.verify_mode == ssl.CERT_REQUIRED


def test_settings_from_environment() -> None:
    env = {
        "PADIT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "PADIT_KAFKA_CA_FILE": "/etc/padit/kafka-ca/ca.crt",
        "PADIT_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "PADIT_KAFKA_USERNAME": "padit",
        "PADIT_KAFKA_PASSWORD_ENV": "PADIT_KAFKA_PASSWORD",
        "PADIT_KAFKA_PASSWORD": "never-read-here",
    }
    sec = security_from_env(env)
    assert sec.protocol == "SASL_SSL"
    assert str(sec.ca_file) == "/etc/padit/kafka-ca/ca.crt"
    assert sec.password_env == "PADIT_KAFKA_PASSWORD"
    assert security_from_env({}) == KafkaSecurity()


def test_bad_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        security_from_env({"PADIT_KAFKA_SECURITY_PROTOCOL": "SASL-SSL"})
    assert "environment variable PADIT_KAFKA_SECURITY_PROTOCOL" in str(info.value)
    with pytest.raises(ConfigError) as info:
        security_from_env({"PADIT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"})
    text = str(info.value)
    assert "PADIT_KAFKA_SECURITY_PROTOCOL" in text and "username required" in text
