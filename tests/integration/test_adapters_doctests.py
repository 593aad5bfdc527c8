"""The examples in the adapters' docstrings run and give what they show (some use loopback)."""

from __future__ import annotations

import doctest
import importlib

import pytest

pytestmark = pytest.mark.integration

MODULES = [
    "adapters.base",
    "adapters.config",
    "adapters.registry",
    "adapters.runner",
    "adapters.http",
    "adapters.replay",
    "adapters.oran",
    "adapters.oran.cfm",
    "adapters.oran.ecpri",
    "adapters.oran.netconf",
    "adapters.oran.udp_echo",
    "adapters.stream",
    "adapters.mqtt",
    "adapters.mqtt.mapping",
    "adapters.modbus",
    "adapters.modbus.registers",
    "adapters.prom",
    "adapters.prom.exposition",
    "adapters.prom.rates",
    "adapters.canbus",
    "adapters.canbus.signals",
    "adapters.snmp",
    "adapters.snmp.oids",
    "adapters.selfmetrics",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = finder.find(module)
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0
