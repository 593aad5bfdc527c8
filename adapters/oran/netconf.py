"""NETCONF over SSH (ncclient): interface counters, O-RAN PM measurements, notifications.

ncclient blocks, so :class:`NetconfPoller` runs in one worker thread per endpoint (a manager
is not safe for concurrent use). Counters become per-second rates between two polls; a
counter that went down, or a changed ``discontinuity-time``, is a reset and yields no rate
for that poll.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adapters.base import Sample
from adapters.errors import ProbeError

__all__ = [
    "IF_NS",
    "ORAN_PM_NS",
    "NetconfOptions",
    "NetconfPoller",
    "RateTracker",
    "interface_counters",
    "notification_samples",
    "pm_object_samples",
]

log = logging.getLogger(__name__)

IF_NS = "urn:ietf:params:xml:ns:yang:ietf-interfaces"
ORAN_PM_NS = "urn:o-ran:performance-management:1.0"
NOTIF_NS = "urn:ietf:params:xml:ns:netconf:notification:1.0"
IF_FILTER = f'<interfaces-state xmlns="{IF_NS}"/>'
PM_FILTER = f'<performance-measurement-objects xmlns="{ORAN_PM_NS}"/>'


class NetconfOptions(BaseModel):
    """The ``netconf:`` section of an O-RAN endpoint (``true`` means all defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Subtree XML or XPath; default: ietf-interfaces ``interfaces-state``.
    filter: str | None = None
    filter_type: Literal["subtree", "xpath"] = "subtree"
    #: Prefix -> namespace map for an XPath filter using prefixes.
    namespaces: dict[str, str] = Field(default_factory=dict)
    #: ``auto``: also poll O-RAN performance-measurement-objects when the unit advertises
    #: urn:o-ran:performance-management.
    pm: Literal["auto", "off"] = "auto"
    #: Create a notification subscription; each notification becomes metrics.
    subscribe: bool = False
    stream: str = Field(default="NETCONF", min_length=1)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> Iterator[ET.Element]:
    return (c for c in el if _local(c.tag) == name)


def _text(el: ET.Element, name: str) -> str | None:
    for c in _children(el, name):
        return (c.text or "").strip()
    return None


def _walk(el: ET.Element, name: str) -> Iterator[ET.Element]:
    return (e for e in el.iter() if _local(e.tag) == name)


def _metric_part(text: str) -> str:
    return text.strip().replace("-", "_").replace(" ", "_")


def _parse_time(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        return None


def interface_counters(xml: str) -> dict[str, tuple[str, dict[str, int]]]:
    """ietf-interfaces ``interfaces-state`` -> ``{ifname: (discontinuity_time, counters)}``.

    Example:
        >>> x = ('<data><interfaces-state xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">'
        ...      '<interface><name>eth0</name><statistics><in-octets>10</in-octets>'
        ...      '</statistics></interface></interfaces-state></data>')
        >>> interface_counters(x)
        {'eth0': ('', {'in-octets': 10})}
    """
    root = ET.fromstring(xml)
    out: dict[str, tuple[str, dict[str, int]]] = {}
    for iface in _walk(root, "interface"):
        name = _text(iface, "name")
        stats = next(_children(iface, "statistics"), None)
        if not name or stats is None:
            continue
        disc = ""
        counters: dict[str, int] = {}
        for leaf in stats:
            key = _local(leaf.tag)
            text = (leaf.text or "").strip()
            if key == "discontinuity-time":
                disc = text
            elif text.isdigit():
                counters[key] = int(text)
        out[name] = (disc, counters)
    return out


@dataclass
class RateTracker:
    """Per-second rates of monotonic counters between successive observations."""

    _last: dict[str, tuple[int, float, str]] = field(default_factory=dict)
    resets: int = 0

    def update(self, key: str, value: int, t: float, epoch: str = "") -> float | None:
        """The rate since the previous value of ``key``; ``None`` on the first or a reset.

        Example:
            >>> r = RateTracker()
            >>> r.update("x", 100, 0.0), r.update("x", 300, 2.0), r.update("x", 5, 3.0)
            (None, 100.0, None)
        """
        prev = self._last.get(key)
        self._last[key] = (value, t, epoch)
        if prev is None:
            return None
        p_value, p_t, p_epoch = prev
        if value < p_value or epoch != p_epoch:
            self.resets += 1
            return None
        dt = t - p_t
        if dt <= 0:
            return None
        return (value - p_value) / dt


def pm_object_samples(xml: str, rates: RateTracker, t: float) -> list[Sample]:
    """O-RAN ``performance-measurement-objects`` (rx-window counts, transceiver values)."""
    root = ET.fromstring(xml)
    out: list[Sample] = []
    for obj in _walk(root, "rx-window-measurement-objects"):
        mobj = _text(obj, "measurement-object")
        if not mobj:
            continue
        for name, count in _rx_window_counts(obj):
            metric = f"pm.rx_window.{mobj}" + (f".{name}" if name else "")
            rate = rates.update(metric, count, t)
            if rate is not None:
                out.append(Sample(metric, rate, "1/s", "rate", {"measurement": mobj}))
    for obj in _walk(root, "transceiver-measurement-objects"):
        mobj = _text(obj, "measurement-object")
        if mobj:
            out.extend(_transceiver(obj, mobj, None))
    return out


def _rx_window_counts(obj: ET.Element) -> Iterator[tuple[str, int]]:
    # The result is a YANG choice on object-unit: RU (one count), TRANSPORT (per transport
    # flow) or EAXC_ID (per eAxC).
    direct = _text(obj, "count")
    if direct is not None and direct.isdigit():
        yield "", int(direct)
    for res in _children(obj, "tr-measured-result"):
        name, count = _text(res, "name"), _text(res, "count")
        if name and count and count.isdigit():
            yield name, int(count)
    for res in _children(obj, "eaxc-measured-result"):
        eaxc, count = _text(res, "eaxc-id"), _text(res, "count")
        if eaxc and count and count.isdigit():
            yield f"eaxc{eaxc}", int(count)


def _transceiver(obj: ET.Element, mobj: str, ts: float | None) -> list[Sample]:
    out = []
    for res in _children(obj, "transceiver-measurement-result"):
        unit_id = _text(res, "object-unit-id") or "0"
        for stat in ("latest", "min", "max"):
            el = next(_children(res, stat), None)
            if el is None:
                continue
            try:
                v = float(_text(el, "value") or "")
            except ValueError:
                continue
            when = ts if ts is not None else _parse_time(_text(el, "time"))
            out.append(
                Sample(
                    f"pm.transceiver.{mobj}.{unit_id}.{stat}",
                    v,
                    labels={"measurement": mobj, "object_unit_id": unit_id},
                    timestamp=when,
                )
            )
    return out


def notification_samples(xml: str) -> list[Sample]:
    """Metrics from one ``<notification>``.

    ``measurement-result-stats`` (O-RAN PM) gives rx-window rates over each report's
    interval and transceiver values; any other notification gives ``notif.<name>`` = 1 at
    its event time, so that config changes, alarms etc. show up as events.
    """
    root = ET.fromstring(xml)
    event_time = _parse_time(_text(root, "eventTime"))
    events = [c for c in root if _local(c.tag) != "eventTime"]
    out: list[Sample] = []
    for ev in events:
        name = _local(ev.tag)
        if name == "measurement-result-stats":
            out.extend(_pm_stats(ev, event_time))
        else:
            out.append(
                Sample(f"notif.{name}", 1.0, "events", labels={"event": name}, timestamp=event_time)
            )
    return out


def _pm_stats(ev: ET.Element, event_time: float | None) -> list[Sample]:
    out: list[Sample] = []
    for st in _children(ev, "rx-window-stats"):
        mobj = _text(st, "measurement-object")
        start, end = _parse_time(_text(st, "start-time")), _parse_time(_text(st, "end-time"))
        if not mobj or start is None or end is None or end <= start:
            continue
        for name, count in _rx_window_counts(st):
            metric = f"pm.rx_window.{mobj}" + (f".{name}" if name else "")
            out.append(
                Sample(metric, count / (end - start), "1/s", "rate", {"measurement": mobj}, end)
            )
    for st in _children(ev, "transceiver-stats"):
        mobj = _text(st, "measurement-object")
        if mobj:
            end = _parse_time(_text(st, "end-time")) or event_time
            out.extend(_transceiver(st, mobj, end))
    return out


@dataclass
class _Conn:
    manager: Any
    pm: bool
    subscribed: bool


class NetconfPoller:
    """One NETCONF session to one unit (blocking; call from a worker thread).

    Args:
        host, port, username: where and who.
        key_file: private key for public-key authentication.
        password_env: name of an environment variable holding a password (never in YAML).
        hostkey_verify: check the server key against ~/.ssh/known_hosts.
        options: what to poll and whether to subscribe.
        timeout: connect and RPC timeout, seconds.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        key_file: str | None,
        password_env: str | None,
        hostkey_verify: bool,
        options: NetconfOptions,
        timeout: float,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.key_file = key_file
        self.password_env = password_env
        self.hostkey_verify = hostkey_verify
        self.options = options
        self.timeout = timeout
        self.rates = RateTracker()
        self._conn: _Conn | None = None

    def _connect(self) -> _Conn:
        from ncclient import manager

        password = os.environ.get(self.password_env) if self.password_env else None
        # Our own TCP connect keeps the OS error (refused, timeout, dns); ncclient would turn
        # it into a bare "Could not open socket".
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        m = manager.connect(
            host=self.host,
            port=self.port,
            sock=sock,
            username=self.username,
            key_filename=self.key_file,
            password=password,
            hostkey_verify=self.hostkey_verify,
            allow_agent=False,
            look_for_keys=False,
            timeout=self.timeout,
        )
        m.timeout = self.timeout
        pm = self.options.pm == "auto" and any(
            str(cap).startswith(ORAN_PM_NS.rsplit(":", 1)[0]) for cap in m.server_capabilities
        )
        subscribed = False
        if self.options.subscribe:
            m.create_subscription(stream_name=self.options.stream)
            subscribed = True
        log.info("netconf %s:%d connected (o-ran pm: %s)", self.host, self.port, pm)
        return _Conn(m, pm, subscribed)

    def poll(self) -> list[Sample]:
        """One poll: ``<get>``(s), then the notifications received since the last poll."""
        try:
            if self._conn is None:
                self._conn = self._connect()
            return self._poll(self._conn)
        except Exception as exc:
            # Any failure may leave the session half-broken: start afresh next time.
            self.close()
            if _is_rpc_error(exc):
                raise ProbeError("protocol", f"NETCONF rpc-error: {exc}") from exc
            raise

    def _poll(self, conn: _Conn) -> list[Sample]:
        opts = self.options
        m = conn.manager
        flt: tuple[str, Any]
        if opts.filter is None:
            flt = ("subtree", IF_FILTER)
        elif opts.filter_type == "xpath" and opts.namespaces:
            flt = ("xpath", (dict(opts.namespaces), opts.filter))
        else:
            flt = (opts.filter_type, opts.filter)
        t0 = time.perf_counter()
        reply = m.get(filter=flt)
        rpc_ms = (time.perf_counter() - t0) * 1e3
        now = time.time()
        out = [Sample("netconf.rpc_ms", rpc_ms, "ms")]
        for ifname, (disc, counters) in interface_counters(reply.data_xml).items():
            for counter, value in counters.items():
                metric = f"if.{ifname}.{_metric_part(counter)}"
                rate = self.rates.update(metric, value, now, disc)
                if rate is not None:
                    unit = "B/s" if counter.endswith("octets") else "1/s"
                    out.append(Sample(metric, rate, unit, "rate", {"interface": ifname}))
        if conn.pm:
            pm_reply = m.get(filter=("subtree", PM_FILTER))
            out.extend(pm_object_samples(pm_reply.data_xml, self.rates, now))
        if conn.subscribed:
            while (notif := m.take_notification(block=False)) is not None:
                out.extend(notification_samples(notif.notification_xml))
        return out

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.manager.close_session()
            except Exception as exc:
                log.debug("netconf close: %s", exc)


def _is_rpc_error(exc: BaseException) -> bool:
    return type(exc).__name__ in {"RPCError", "OperationError"}
