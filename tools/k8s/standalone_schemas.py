"""Turn the Kubernetes JSON schemas shipped by the PyPI wheel kubernetes-validate into the
standalone layout kubeconform reads offline.

The wheel's ``vX.Y.0-local-strict`` schemas point into a shared ``_definitions.json`` through an
absolute ``https://kubernetes.io/api/...`` reference, which kubeconform would try to download.
Each top-level kind is written with the definitions it reaches copied into its own ``$defs``.

    python standalone_schemas.py WHEEL K8S_VERSION OUT_DIR
    (OUT_DIR/KIND-GROUP-VERSION.json, e.g. statefulset-apps-v1.json, as kubeconform's
    ``{{ .ResourceKind }}{{ .KindSuffix }}.json``)
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from typing import Any

SHARED = "/api/_definitions.json#/$defs/"
LOCAL = "#/$defs/"


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.removeprefix(SHARED).removeprefix(LOCAL))
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (v.replace(SHARED, LOCAL) if k == "$ref" and isinstance(v, str) else _rewrite(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def _closure(start: Any, defs: dict[str, Any]) -> dict[str, Any]:
    todo: set[str] = set()
    _refs(start, todo)
    seen: dict[str, Any] = {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = defs[name]
        more: set[str] = set()
        _refs(defs[name], more)
        todo |= more - seen.keys()
    return seen


def convert(wheel: Path, version: str, out: Path) -> int:
    """Write the standalone strict schema of every top-level kind; returns how many."""
    prefix = f"kubernetes_validate/kubernetes-json-schema/v{version}-local-strict/"
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if n.startswith(prefix) and n.endswith(".json")]
        if not names:
            raise SystemExit(f"{wheel}: no schemas for Kubernetes {version}")
        defs = json.loads(zf.read(prefix + "_definitions.json"))["$defs"]
        tmp = out.with_name(out.name + ".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        count = 0
        for name in names:
            schema = json.loads(zf.read(name))
            # Only kinds (objects with apiVersion/kind) are looked up by kubeconform.
            if not isinstance(schema, dict) or "x-kubernetes-group-version-kind" not in schema:
                continue
            schema.pop("$id", None)
            schema["$defs"] = _closure(schema, defs)
            (tmp / Path(name).name).write_text(json.dumps(_rewrite(schema)), encoding="utf-8")
            count += 1
    # Whole directory or nothing: a half-written one would pass as "schema missing" later.
    if out.exists():
        for old in out.iterdir():
            old.unlink()
        out.rmdir()
    tmp.rename(out)
    return count


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    n = convert(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
    sys.stderr.write(f"standalone_schemas: {n} kinds written to {sys.argv[3]}\n")
