"""PADIT adapters: separate processes that probe endpoints and publish metrics to Kafka.

Run them with ``padit-adapters run config/adapters.yaml`` (or ``python -m adapters run``).
Adapters come from the ``padit.adapters`` entry-point group (built-ins: ``http``,
``oran-cfm``, ``replay``, ``mqtt``, ``modbus``, ``prometheus``, ``can``, ``snmp``) and from a
``plugin_dir``; see :mod:`adapters.base` for the
contract and :mod:`adapters.config` for the YAML. Nothing here imports Faust.
"""
