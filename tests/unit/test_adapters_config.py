"""Config loading: valid files resolve; every invalid one names file, adapter, endpoint, key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from adapters.config import expand_env, load_config
from adapters.errors import AdapterConfigError
from adapters.http import HttpAdapter, HttpEndpoint
from padit_stream.errors import ConfigError, PaditError


def write(tmp_path: Path, text: str, name: str = "adapters.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_valid_config_resolves_schedule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        adapters:
          - name: http
            interval_sec: 5
            jitter: 0.2
            endpoints:
              - {id: a, url: "http://127.0.0.1:8080/"}
              - {id: b, url: "https://127.0.0.1:8443/", interval_sec: 30, timeout_sec: 2,
                 expected_status: 204, labels: {site: lab}}
        """,
    )
    cfg = load_config(path)
    a, b = cfg.endpoints
    assert a.adapter_cls is HttpAdapter
    assert isinstance(a.config, HttpEndpoint)
    assert (a.interval_sec, a.timeout_sec, a.jitter) == (5, 5, 0.2)
    assert (b.interval_sec, b.timeout_sec) == (30, 2)
    assert b.config.expected_status == [204]  # type: ignore[attr-defined]
    assert b.config.source == "b"
    assert b.config.labels == {"site": "lab"}


def test_default_timeout_is_capped_at_ten_seconds(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        adapters:
          - {name: http, interval_sec: 60, endpoints: [{id: a, url: "http://127.0.0.1/"}]}
        """,
    )
    assert load_config(path).endpoints[0].timeout_sec == 10


def test_unknown_adapter_names_file_and_choices(tmp_path: Path) -> None:
    path = write(tmp_path, "adapters:\n  - {name: smtp, endpoints: [{id: a}]}\n")
    with pytest.raises(AdapterConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "adapter 'smtp'" in msg
    assert "key 'name'" in msg
    assert "'http'" in msg and "'replay'" in msg
    assert isinstance(info.value, ConfigError) and isinstance(info.value, PaditError)


def test_bad_option_names_adapter_endpoint_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        adapters:
          - name: http
            endpoints:
              - {id: ok, url: "http://127.0.0.1/"}
              - {id: slowpoke, url: "http://127.0.0.1/", timeout_sec: soon}
        """,
    )
    with pytest.raises(AdapterConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "adapter 'http' (adapters[0])" in msg
    assert "endpoint 1 (id 'slowpoke')" in msg
    assert "key 'timeout_sec'" in msg
    assert "'soon'" in msg


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "adapters:\n  - {name: http, endpoints: [{id: a, url: 'http://x/', colour: red}]}\n",
    )
    with pytest.raises(AdapterConfigError, match=r"key 'colour': unknown key"):
        load_config(path)


def test_nested_key_path_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "adapters:\n  - {name: http, endpoints: [{id: a, url: 'http://x/', headers: {A: 1}}]}\n",
    )
    with pytest.raises(AdapterConfigError, match=r"key 'headers\.A'"):
        load_config(path)


def test_missing_env_secret_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PADIT_TEST_NO_SUCH_TOKEN", raising=False)
    path = write(
        tmp_path,
        """
        adapters:
          - name: http
            endpoints:
              - id: api
                url: "http://127.0.0.1/"
                headers: {Authorization: "Bearer ${PADIT_TEST_NO_SUCH_TOKEN}"}
        """,
    )
    with pytest.raises(AdapterConfigError) as info:
        load_config(path)
    assert "PADIT_TEST_NO_SUCH_TOKEN" in str(info.value)
    assert "key 'headers'" in str(info.value)
    monkeypatch.setenv("PADIT_TEST_NO_SUCH_TOKEN", "t0k")
    ep = load_config(path).endpoints[0].config
    # The secret is expanded per request, never stored in the config.
    assert "t0k" not in repr(ep)


def test_expand_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A1", "x")
    monkeypatch.setenv("B2", "y")
    assert expand_env("${A1}-${B2}-$C") == "x-y-$C"
    with pytest.raises(ValueError, match="unterminated"):
        expand_env("${A1")


def test_duplicate_endpoint_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        adapters:
          - {name: http, endpoints: [{id: a, url: "http://x/"}]}
          - {name: http, endpoints: [{id: a, url: "http://y/"}]}
        """,
    )
    with pytest.raises(AdapterConfigError, match=r"adapters\[1\].*key 'id': duplicate"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("adapters: [\n", "not valid YAML"),
        ("adapters: []\n", "key 'adapters'"),
        ("adaptors: []\n", "key 'adaptors': unknown key"),
        ("adapters:\n  - {name: http, interval_sec: -1, endpoints: [{id: a}]}\n", "interval_sec"),
        ("adapters:\n  - {name: http, endpoints: []}\n", "endpoints"),
    ],
)
def test_file_level_errors(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(AdapterConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AdapterConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    not (REPO.parent / "shared" / "nab" / "data").is_dir(),
    reason="the demo replays the shared NAB corpus, which is not next to the repo",
)
def test_demo_config_is_valid() -> None:
    cfg = load_config(REPO / "config" / "adapters.yaml")
    assert {s.adapter_name for s in cfg.endpoints} >= {"http", "oran-cfm", "replay"}
