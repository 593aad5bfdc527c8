"""The Helm chart (docker/helm/padit) renders to manifests that Kubernetes' schemas accept.

``helm template`` renders the chart; kubeconform validates every manifest against the strict
JSON schemas of Kubernetes (unknown fields fail) from ``tools/k8s/install.sh``, which builds
both tools from the Go module proxy when they are missing (``make k8s-tools``).
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.config import load_config
from padit_stream.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "docker" / "helm" / "padit"
INSTALL = REPO / "tools" / "k8s" / "install.sh"

SECRET_VALUES = {
    "webhookUrl": "https://hooks.example.test/T0/B0/never-in-a-configmap",
    "kafkaPassword": "kafka-pw-never-in-a-configmap",
    "apiToken": "api-token-never-in-a-configmap",
}

THREE_WORKERS: dict[str, Any] = {
    "kafka": {
        "broker": "kafka://kafka-0.kafka.data.svc:9093;kafka-1.kafka.data.svc:9093",
        "security": {
            "protocol": "SASL_SSL",
            "saslMechanism": "SCRAM-SHA-512",
            "username": "padit",
            "caSecret": "kafka-ca",
        },
    },
    "topics": {"partitions": 12, "replication": 3},
    "worker": {
        "replicas": 3,
        "standbyReplicas": 1,
        "resources": {
            "requests": {"cpu": "1", "memory": "2Gi"},
            "limits": {"cpu": "2", "memory": "3Gi"},
        },
        "persistence": {"size": "20Gi", "storageClassName": "fast-ssd"},
    },
    "adapters": {"resources": {"requests": {"cpu": "200m", "memory": "256Mi"}}},
    "secrets": {"existingSecret": "padit-prod"},
    "config": {"window": {"emit_every_sec": 30}},
}


@pytest.fixture(scope="module")
def tools() -> dict[str, str]:
    out = subprocess.run(
        ["bash", str(INSTALL), "--print"], capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, f"tools/k8s/install.sh failed:\n{out.stderr}"
    found = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    return found


def helm_template(
    tools: dict[str, str], tmp: Path, values: dict[str, Any] | None = None, *extra: str
) -> subprocess.CompletedProcess[str]:
    args = [tools["HELM"], "template", "padit", str(CHART), "--namespace", "obs"]
    args += ["--kube-version", tools["K8S_VERSION"], *extra]
    if values is not None:
        path = tmp / "values.yaml"
        path.write_text(yaml.safe_dump(values), encoding="utf-8")
        args += ["-f", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def render(tools: dict[str, str], tmp: Path, values: dict[str, Any] | None = None) -> str:
    out = helm_template(tools, tmp, values)
    assert out.returncode == 0, out.stderr
    return out.stdout


def docs(manifest: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(manifest) if d]


def one(objs: list[dict[str, Any]], kind: str, name_suffix: str = "") -> dict[str, Any]:
    found = [o for o in objs if o["kind"] == kind and o["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, f"{kind} *{name_suffix}: {[o['metadata']['name'] for o in found]}"
    return found[0]


def kubeconform(tools: dict[str, str], manifest: str, tmp: Path) -> dict[str, Any]:
    path = tmp / "rendered.yaml"
    path.write_text(manifest, encoding="utf-8")
    location = tools["K8S_SCHEMAS"] + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    out = subprocess.run(
        [tools["KUBECONFORM"], "-strict", "-summary", "-output", "json",
         "-schema-location", location, str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(out.stdout)
    report["returncode"] = out.returncode
    return report


def assert_valid(tools: dict[str, str], manifest: str, tmp: Path) -> None:
    report = kubeconform(tools, manifest, tmp)
    summary = report["summary"]
    problems = [r for r in report["resources"] if r["status"] != "statusValid"]
    assert report["returncode"] == 0 and not problems, problems
    # Every document was checked against a schema, none skipped for want of one.
    assert summary["valid"] == len(docs(manifest)) and summary["skipped"] == 0, summary


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def walk_strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from walk_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_strings(value)
    elif isinstance(node, str):
        yield node


# ---------------------------------------------------------------- schema validation


def test_default_values_are_valid_kubernetes(tools: dict[str, str], tmp_path: Path) -> None:
    assert_valid(tools, render(tools, tmp_path), tmp_path)


def test_three_workers_with_existing_secret_are_valid(
    tools: dict[str, str], tmp_path: Path
) -> None:
    assert_valid(tools, render(tools, tmp_path, THREE_WORKERS), tmp_path)


def test_inline_secrets_are_valid(tools: dict[str, str], tmp_path: Path) -> None:
    assert_valid(tools, render(tools, tmp_path, {"secrets": SECRET_VALUES}), tmp_path)


@pytest.mark.parametrize("values", [None, THREE_WORKERS], ids=["defaults", "three-workers"])
def test_helm_lint_strict(
    tools: dict[str, str], tmp_path: Path, values: dict[str, Any] | None
) -> None:
    args = [tools["HELM"], "lint", "--strict", str(CHART), "--kube-version", tools["K8S_VERSION"]]
    if values is not None:
        path = tmp_path / "values.yaml"
        path.write_text(yaml.safe_dump(values), encoding="utf-8")
        args += ["-f", str(path)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 chart(s) failed" in out.stdout


def test_validation_is_strict(tools: dict[str, str], tmp_path: Path) -> None:
    """A misspelt field must fail: otherwise the checks above prove nothing."""
    objs = docs(render(tools, tmp_path))
    sts = one(objs, "StatefulSet")
    sts["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    report = kubeconform(tools, yaml.safe_dump_all(objs), tmp_path)
    assert report["returncode"] != 0
    [bad] = [r for r in report["resources"] if r["status"] != "statusValid"]
    assert bad["kind"] == "StatefulSet" and "livenessProbes" in bad["msg"]


# ---------------------------------------------------------------- the essentials


def test_workers_are_a_statefulset_with_a_volume_per_worker(
    tools: dict[str, str], tmp_path: Path
) -> None:
    objs = docs(render(tools, tmp_path, THREE_WORKERS))
    sts = one(objs, "StatefulSet")
    spec = sts["spec"]
    assert spec["replicas"] == 3
    [claim] = spec["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    [worker] = spec["template"]["spec"]["containers"]
    env = env_of(worker)
    mounts = {m["name"]: m["mountPath"] for m in worker["volumeMounts"]}
    # RocksDB lives on the claim, at the data dir the app reads.
    assert mounts[claim["metadata"]["name"]] == env["PADIT_DATA_DIR"]
    assert worker["resources"] == THREE_WORKERS["worker"]["resources"]
    assert env["PADIT_BROKER"] == THREE_WORKERS["kafka"]["broker"]


def test_headless_service_gives_each_worker_its_advertised_name(
    tools: dict[str, str], tmp_path: Path
) -> None:
    objs = docs(render(tools, tmp_path, THREE_WORKERS))
    sts = one(objs, "StatefulSet")
    headless = [o for o in objs if o["kind"] == "Service" and o["spec"].get("clusterIP") == "None"]
    assert len(headless) == 1
    svc = headless[0]
    assert sts["spec"]["serviceName"] == svc["metadata"]["name"]
    pod = sts["spec"]["template"]
    assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    [worker] = pod["spec"]["containers"]
    env = env_of(worker)
    assert env["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    names = [e["name"] for e in worker["env"]]
    # Kubernetes expands $(VAR) only from variables defined earlier in the list.
    assert names.index("POD_NAME") < names.index("PADIT_WEB_HOST")
    assert names.index("POD_NAMESPACE") < names.index("PADIT_WEB_HOST")
    expected = f"$(POD_NAME).{svc['metadata']['name']}.$(POD_NAMESPACE).svc.cluster.local"
    assert env["PADIT_WEB_HOST"] == expected
    args = worker["args"]
    assert args[args.index("--web-bind") + 1] == "0.0.0.0"
    assert args[args.index("--web-host") + 1] == "$(PADIT_WEB_HOST)"
    port = {p["name"]: p["containerPort"] for p in worker["ports"]}["web"]
    assert args[args.index("--web-port") + 1] == str(port) == env["PADIT_WEB_PORT"]


def test_probes_use_health_and_ready(tools: dict[str, str], tmp_path: Path) -> None:
    objs = docs(render(tools, tmp_path))
    [worker] = one(objs, "StatefulSet")["spec"]["template"]["spec"]["containers"]
    assert worker["livenessProbe"]["httpGet"] == {"path": "/health", "port": "web"}
    assert worker["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "web"}
    assert worker["startupProbe"]["httpGet"]["path"] == "/health"


def test_pods_run_as_the_image_user_without_privileges(
    tools: dict[str, str], tmp_path: Path
) -> None:
    objs = docs(render(tools, tmp_path))
    for kind in ("StatefulSet", "Deployment"):
        pod = one(objs, kind)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod["containers"]:
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_pdb_covers_exactly_the_workers(tools: dict[str, str], tmp_path: Path) -> None:
    objs = docs(render(tools, tmp_path, THREE_WORKERS))
    pdb = one(objs, "PodDisruptionBudget")
    selector = pdb["spec"]["selector"]["matchLabels"].items()
    sts_labels = one(objs, "StatefulSet")["spec"]["template"]["metadata"]["labels"].items()
    adapter_labels = one(objs, "Deployment")["spec"]["template"]["metadata"]["labels"].items()
    assert selector <= sts_labels
    assert not selector <= adapter_labels
    assert pdb["spec"]["maxUnavailable"] == 1


def test_adapters_deployment_runs_the_configmap_config(
    tools: dict[str, str], tmp_path: Path
) -> None:
    objs = docs(render(tools, tmp_path))
    dep = one(objs, "Deployment", "-adapters")
    pod = dep["spec"]["template"]["spec"]
    [adapters] = pod["containers"]
    assert adapters["command"] == ["padit-adapters"]
    assert adapters["args"][:2] == ["run", "/etc/padit/adapters.yaml"]
    [mount] = [m for m in adapters["volumeMounts"] if m["mountPath"] == "/etc/padit/adapters.yaml"]
    [volume] = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    cm = one(objs, "ConfigMap")
    assert volume["configMap"]["name"] == cm["metadata"]["name"]
    # The adapters' own loader accepts what the pod will read.
    path = tmp_path / "adapters.yaml"
    path.write_text(cm["data"][mount["subPath"]], encoding="utf-8")
    cfg = load_config(path)
    assert [e.config.id for e in cfg.endpoints] == ["api-health"]


def test_stream_config_is_accepted_by_the_worker_settings(
    tools: dict[str, str], tmp_path: Path
) -> None:
    objs = docs(render(tools, tmp_path, THREE_WORKERS))
    cm = one(objs, "ConfigMap")
    [worker] = one(objs, "StatefulSet")["spec"]["template"]["spec"]["containers"]
    env = env_of(worker)
    [mount] = [m for m in worker["volumeMounts"] if m["mountPath"] == env["PADIT_CONFIG"]]
    path = tmp_path / "padit.yaml"
    path.write_text(cm["data"][mount["subPath"]], encoding="utf-8")
    # The pod's plain env values, as the worker would see them (downward API ones aside).
    plain = {k: v for k, v in env.items() if isinstance(v, str) and "$(" not in v}
    settings = load_settings(path, env=plain)
    assert settings.topics.partitions == 12
    assert settings.topics.replication == 3
    assert settings.app.standby_replicas == 1
    assert settings.app.broker == THREE_WORKERS["kafka"]["broker"]
    assert str(settings.app.data_dir) == "/data"
    # The repository's config is the base, values.config is merged over it.
    repo = load_settings(REPO / "config" / "padit.yaml", env={})
    assert settings.window.emit_every_sec == 30 != repo.window.emit_every_sec
    assert settings.window.span_sec == repo.window.span_sec
    assert settings.detection == repo.detection
    assert settings.alerting == repo.alerting


def test_existing_secret_is_referenced_not_rendered(tools: dict[str, str], tmp_path: Path) -> None:
    objs = docs(render(tools, tmp_path, THREE_WORKERS))
    assert not [o for o in objs if o["kind"] == "Secret"]
    for kind in ("StatefulSet", "Deployment"):
        [c] = one(objs, kind)["spec"]["template"]["spec"]["containers"]
        env = env_of(c)
        for var in ("PADIT_WEBHOOK_URL", "PADIT_KAFKA_PASSWORD", "PADIT_API_TOKEN"):
            assert env[var]["secretKeyRef"]["name"] == "padit-prod", (kind, var)
        assert env["PADIT_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["PADIT_KAFKA_USERNAME"] == "padit"
        assert env["PADIT_KAFKA_PASSWORD_ENV"] == "PADIT_KAFKA_PASSWORD"
        ca_file = env["PADIT_KAFKA_CA_FILE"]
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        assert ca_file.startswith(mounts["kafka-ca"] + "/")


def test_no_secret_value_in_a_configmap(tools: dict[str, str], tmp_path: Path) -> None:
    manifest = render(tools, tmp_path, {"secrets": SECRET_VALUES})
    objs = docs(manifest)
    secret = one(objs, "Secret")
    assert set(secret["data"]) == {"webhook-url", "kafka-password", "api-token"}
    for obj in objs:
        if obj["kind"] == "Secret":
            continue
        text = "\n".join(walk_strings(obj))
        for value in SECRET_VALUES.values():
            assert value not in text, f"{obj['kind']} {obj['metadata']['name']} holds a secret"


def test_sasl_without_a_password_is_refused(tools: dict[str, str], tmp_path: Path) -> None:
    values = {"kafka": {"security": {"protocol": "SASL_SSL", "username": "padit"}}}
    out = helm_template(tools, tmp_path, values)
    assert out.returncode != 0
    assert "secrets.kafkaPassword or secrets.existingSecret" in out.stderr


def test_workers_always_get_an_api_token(tools: dict[str, str], tmp_path: Path) -> None:
    # The workers listen on their pod address, which needs an API token (else they refuse
    # to start): the chart makes one when none is given.
    made = one(docs(render(tools, tmp_path)), "Secret")
    assert len(base64.b64decode(made["data"]["api-token"])) >= 32
    given = one(docs(render(tools, tmp_path, {"secrets": SECRET_VALUES})), "Secret")
    assert base64.b64decode(given["data"]["api-token"]).decode() == SECRET_VALUES["apiToken"]
    [c] = one(docs(render(tools, tmp_path)), "StatefulSet")["spec"]["template"]["spec"][
        "containers"
    ]
    assert env_of(c)["PADIT_API_TOKEN"]["secretKeyRef"]["key"] == "api-token"
