"""SNMP OID names and counter rates (no agent)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adapters.snmp import SnmpAdapter
from adapters.snmp.oids import CounterRates, resolve_oid


@pytest.mark.parametrize(
    ("text", "oid"),
    [
        ("ifHCInOctets", "1.3.6.1.2.1.31.1.1.1.6"),
        ("IF-MIB::ifName.3", "1.3.6.1.2.1.31.1.1.1.1.3"),
        ("1.3.6.1.4.1.99999.1.0", "1.3.6.1.4.1.99999.1.0"),
    ],
)
def test_resolve(text: str, oid: str) -> None:
    assert resolve_oid(text) == oid


@pytest.mark.parametrize("bad", ["ifNope", "1.3.x", "", "IF-MIB::"])
def test_unknown_names_are_errors(bad: str) -> None:
    with pytest.raises(ValueError, match="not numeric and not a known name"):
        resolve_oid(bad)


def test_agent_restart_forgets_counters() -> None:
    r = CounterRates()
    r.agent_uptime(1000)
    r.update("c", 100, 32, 0.0)
    assert r.agent_uptime(50) is True  # uptime went down: the agent restarted
    assert r.update("c", 20, 32, 1.0) is None  # not taken as a wrap
    assert r.update("c", 30, 32, 2.0) == 10.0


def ep(**kw: object) -> object:
    return SnmpAdapter.parse_endpoint({"id": "a", "host": "h", **kw})


def test_config_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="nothing to poll"):
        ep()
    with pytest.raises(ValidationError, match="needs a v3 section"):
        ep(version="v3", get=[{"oid": "sysUpTime.0"}])
    with pytest.raises(ValidationError, match="PADIT_NOPE is not set"):
        ep(community_env="PADIT_NOPE", get=[{"oid": "sysUpTime.0"}])
    with pytest.raises(ValidationError, match="unknown interface columns"):
        ep(interfaces={"columns": ["ifBogus"]})
    monkeypatch.setenv("PADIT_K", "x")
    with pytest.raises(ValidationError, match="Input should be"):
        ep(version="v3", get=[{"oid": "sysUpTime.0"}],
           v3={"user": "u", "auth_key_env": "PADIT_K", "priv_key_env": "PADIT_K",
               "priv_protocol": "ROT13"})  # fmt: skip
