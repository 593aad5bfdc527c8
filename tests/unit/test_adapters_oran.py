"""O-RAN adapter pieces without network: eCPRI and CFM codecs, NETCONF parsing, config."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.errors import ProbeError
from adapters.oran import OranAdapter, OranEndpoint
from adapters.oran.cfm import (
    ETH_P_CFM,
    OPCODE_LBM,
    build_lbm,
    mac_bytes,
    parse_cfm,
)
from adapters.oran.ecpri import (
    ACTION_REQUEST,
    ACTION_RESPONSE,
    decode_delay_message,
    encode_delay_message,
)
from adapters.oran.netconf import (
    RateTracker,
    interface_counters,
    notification_samples,
    pm_object_samples,
)

# ---------------------------------------------------------------- eCPRI


def test_ecpri_request_layout_follows_the_spec() -> None:
    t1 = (0x0001_2345_6789 * 1_000_000_000) + 999_999_999
    msg = encode_delay_message(0xAB, ACTION_REQUEST, t1, compensation_ns=2.5)
    # Common header: revision 1, C=0; type 5; payload size 20.
    assert msg[:4] == bytes([0x10, 0x05, 0x00, 20])
    assert msg[4] == 0xAB and msg[5] == ACTION_REQUEST
    assert msg[6:12] == (0x0001_2345_6789).to_bytes(6, "big")
    assert msg[12:16] == (999_999_999).to_bytes(4, "big")
    # Compensation: ns * 2^16, like PTP's correctionField.
    assert struct.unpack("!q", msg[16:24])[0] == int(2.5 * 65536)
    assert len(msg) == 24


def test_ecpri_round_trip() -> None:
    m = decode_delay_message(encode_delay_message(3, ACTION_RESPONSE, 10**18 + 5, 0.25))
    assert m == (3, ACTION_RESPONSE, 10**18 + 5, 0.25)


@pytest.mark.parametrize(
    "data",
    [
        b"\x10\x05\x00",  # short
        bytes([0x20, 0x05, 0, 20]) + bytes(20),  # revision 2
        bytes([0x10, 0x02, 0, 20]) + bytes(20),  # message type 2 (real-time control)
        bytes([0x10, 0x05, 0, 20, 1, 0]) + bytes(6) + (10**9).to_bytes(4, "big") + bytes(8),
    ],
)
def test_ecpri_rejects_other_messages(data: bytes) -> None:
    with pytest.raises(ProbeError) as info:
        decode_delay_message(data)
    assert info.value.kind == "protocol"


# ---------------------------------------------------------------- CFM


def test_lbm_frame_layout() -> None:
    dst, src = mac_bytes("02:00:00:00:00:02"), mac_bytes("02:00:00:00:00:01")
    f = build_lbm(dst, src, md_level=6, transaction_id=0x01020304)
    assert len(f) == 23
    assert f[:12] == dst + src
    assert f[12:14] == ETH_P_CFM.to_bytes(2, "big")
    # MD level in the top 3 bits, version 0; opcode 3; flags 0; first TLV offset 4.
    assert f[14:18] == bytes([6 << 5, OPCODE_LBM, 0, 4])
    assert f[18:22] == bytes([1, 2, 3, 4])
    assert f[22] == 0  # End TLV
    assert parse_cfm(f) == (dst, src, 6, OPCODE_LBM, 0x01020304)


def test_parse_cfm_ignores_other_frames() -> None:
    f = bytearray(build_lbm(b"\x02" * 6, b"\x04" * 6, 0, 1))
    f[12:14] = b"\x08\x00"
    assert parse_cfm(bytes(f)) is None
    f = bytearray(build_lbm(b"\x02" * 6, b"\x04" * 6, 0, 1))
    f[15] = 1  # CCM
    assert parse_cfm(bytes(f)) is None
    with pytest.raises(ValueError):
        build_lbm(b"\x02" * 6, b"\x04" * 6, 8, 1)
    with pytest.raises(ValueError):
        mac_bytes("02:00:00")


# ---------------------------------------------------------------- NETCONF parsing

IF_XML = """<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
<interfaces-state xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">
  <interface><name>eth0</name><oper-status>up</oper-status>
    <statistics><discontinuity-time>2026-01-01T00:00:00Z</discontinuity-time>
      <in-octets>{octets}</in-octets><in-errors>{errors}</in-errors></statistics>
  </interface>
  <interface><name>nostats</name></interface>
</interfaces-state></data>"""


def test_interface_counters() -> None:
    got = interface_counters(IF_XML.format(octets=1000, errors=2))
    assert got == {"eth0": ("2026-01-01T00:00:00Z", {"in-octets": 1000, "in-errors": 2})}


def test_rates_and_resets() -> None:
    r = RateTracker()
    assert r.update("c", 1000, 10.0) is None
    assert r.update("c", 3000, 12.0) == 1000.0
    assert r.update("c", 10, 13.0) is None  # counter went down: reset
    assert r.update("c", 110, 14.0) == 100.0
    assert r.update("c", 210, 15.0, epoch="rebooted") is None  # discontinuity changed
    assert r.update("c", 310, 15.0, epoch="rebooted") is None  # no time elapsed
    assert r.resets == 2


PM_NS = "urn:o-ran:performance-management:1.0"
PM_XML = f"""<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
<performance-measurement-objects xmlns="{PM_NS}">
  <rx-window-measurement-objects>
    <measurement-object>RX_LATE</measurement-object><object-unit>RU</object-unit>
    <name>ru-0</name><count>{{late}}</count>
  </rx-window-measurement-objects>
  <rx-window-measurement-objects>
    <measurement-object>RX_ON_TIME</measurement-object><object-unit>TRANSPORT</object-unit>
    <tr-measured-result><name>fh0</name><count>{{on_time}}</count></tr-measured-result>
  </rx-window-measurement-objects>
  <transceiver-measurement-objects>
    <measurement-object>RX_POWER</measurement-object>
    <transceiver-measurement-result><object-unit-id>0</object-unit-id>
      <latest><value>-7.5</value><time>2026-11-26T10:00:00Z</time></latest>
    </transceiver-measurement-result>
  </transceiver-measurement-objects>
</performance-measurement-objects></data>"""


def test_oran_pm_objects() -> None:
    rates = RateTracker()
    first = pm_object_samples(PM_XML.format(late=10, on_time=1000), rates, 0.0)
    assert [s.metric_name for s in first] == ["pm.transceiver.RX_POWER.0.latest"]
    assert first[0].value == -7.5
    assert first[0].timestamp == 1795687200.0  # 2026-11-26T10:00:00Z
    second = pm_object_samples(PM_XML.format(late=30, on_time=5000), rates, 2.0)
    got = {s.metric_name: s.value for s in second}
    assert got["pm.rx_window.RX_LATE"] == 10.0
    assert got["pm.rx_window.RX_ON_TIME.fh0"] == 2000.0


NOTIF = """<notification xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0">
  <eventTime>2026-11-26T14:33:44Z</eventTime>{body}</notification>"""


def test_config_change_notification() -> None:
    body = (
        '<netconf-config-change xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-notifications">'
        "<changed-by><username>root</username></changed-by></netconf-config-change>"
    )
    [s] = notification_samples(NOTIF.format(body=body))
    assert s.metric_name == "notif.netconf-config-change"
    assert s.timestamp == 1795703624.0
    assert s.labels == {"event": "netconf-config-change"}


def test_measurement_result_stats_notification() -> None:
    body = f"""<measurement-result-stats xmlns="{PM_NS}">
      <rx-window-stats><measurement-object>RX_EARLY</measurement-object>
        <start-time>2026-11-26T14:00:00Z</start-time><end-time>2026-11-26T14:00:10Z</end-time>
        <name>ru-0</name><count>50</count></rx-window-stats>
      <transceiver-stats><measurement-object>TEMPERATURE</measurement-object>
        <start-time>2026-11-26T14:00:00Z</start-time><end-time>2026-11-26T14:00:10Z</end-time>
        <transceiver-measurement-result><object-unit-id>1</object-unit-id>
          <max><value>41.0</value></max></transceiver-measurement-result></transceiver-stats>
    </measurement-result-stats>"""
    got = {s.metric_name: s for s in notification_samples(NOTIF.format(body=body))}
    early = got["pm.rx_window.RX_EARLY"]
    assert (early.value, early.metric_type, early.timestamp) == (5.0, "rate", 1795701610.0)
    temp = got["pm.transceiver.TEMPERATURE.1.max"]
    assert (temp.value, temp.timestamp) == (41.0, 1795701610.0)


# ---------------------------------------------------------------- config


def test_switches(tmp_path: Path) -> None:
    key = tmp_path / "k"
    key.write_text("x")
    ep = OranAdapter.parse_endpoint(
        {"id": "ru", "host": "h", "key_file": "k", "netconf": True, "udp_echo": True},
        base_dir=tmp_path,
    )
    assert isinstance(ep, OranEndpoint)
    assert ep.key_file == key
    assert ep.netconf is not None and ep.netconf.filter is None
    assert ep.udp_echo is not None and ep.udp_echo.port == 7
    assert ep.ecpri is None and ep.lbm is None


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({}, "enable at least one"),
        ({"udp_echo": False}, "enable at least one"),
        ({"netconf": True}, "key_file or password_env"),
        ({"ecpri": True}, "needs its options"),
        ({"lbm": {"interface": "eth0", "target_mac": "zz"}}, "lbm.target_mac"),
        ({"udp_echo": {"port": 0}}, "udp_echo.port"),
        ({"udp_echo": {"colour": 1}}, "udp_echo.colour"),
        ({"netconf": {"pm": "maybe"}, "password_env": "X"}, "netconf.pm"),
        ({"udp_echo": True, "key_file": "/nonexistent/k"}, "does not exist"),
    ],
)
def test_bad_oran_options(raw: dict[str, object], needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        OranAdapter.parse_endpoint({"id": "ru", "host": "h", **raw})
    text = str(info.value)
    assert needle in text or needle in repr(info.value.errors()), text
