"""Fixtures of the adapter integration tests (import them with ``from ... import *``)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.peers import HttpPeer, NetconfPeer, SocatEcho, VethNamespaces

__all__ = [
    "http_peer",
    "https_ca",
    "https_peer",
    "netconf_peer",
    "socat_echo",
    "veth_netns",
]


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (network namespaces, raw sockets, sshd); CI runs as root")


@pytest.fixture
def http_peer() -> Iterator[HttpPeer]:
    with HttpPeer() as peer:
        yield peer


@pytest.fixture(scope="session")
def https_ca() -> object:
    trustme = pytest.importorskip("trustme", reason="trustme is a dev dependency")
    return trustme.CA()


@pytest.fixture
def https_peer(https_ca: object, tmp_path: Path) -> Iterator[tuple[HttpPeer, Path]]:
    """An https server with a certificate for 127.0.0.1 from a test CA; yields (peer, CA PEM)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert = https_ca.issue_cert("127.0.0.1")  # type: ignore[attr-defined]
    cert.configure_cert(ctx)
    ca_pem = tmp_path / "ca.pem"
    https_ca.cert_pem.write_to_path(str(ca_pem))  # type: ignore[attr-defined]
    with HttpPeer(ctx) as peer:
        yield peer, ca_pem


@pytest.fixture
def socat_echo() -> Iterator[SocatEcho]:
    try:
        peer = SocatEcho()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    with peer:
        yield peer


@pytest.fixture(scope="module")
def netconf_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetconfPeer]:
    _need_root("netconfd behind sshd")
    try:
        peer = NetconfPeer(tmp_path_factory.mktemp("netconf"))
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    with peer:
        yield peer


@pytest.fixture
def veth_netns() -> Iterator[VethNamespaces]:
    _need_root("a veth pair between network namespaces")
    with VethNamespaces() as ns:
        yield ns
