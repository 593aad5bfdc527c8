#!/usr/bin/env bash
# helm and kubeconform built from the Go module proxy, and the Kubernetes JSON schemas for
# kubeconform taken from the PyPI wheel kubernetes-validate: no download outside the package
# registries. Idempotent: a second run with the same pins does nothing.
#
#   tools/k8s/install.sh            -> .cache/bin/helm, .cache/bin/kubeconform,
#                                      .cache/k8s/schemas/v$K8S_VERSION-standalone-strict/
#   tools/k8s/install.sh --print    -> the paths above as shell assignments, after installing
#
# Cold on a 2-core machine: about 4 min (the helm build dominates); warm: under a second.
set -euo pipefail

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
# The schemas of this Kubernetes release; helm renders for the same version.
K8S_VERSION=1.37.0
KUBERNETES_VALIDATE="kubernetes-validate==1.37.0"
KUBERNETES_VALIDATE_SHA256=85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN="$ROOT/.cache/bin"
K8S="$ROOT/.cache/k8s"
SCHEMAS="$K8S/schemas/v$K8S_VERSION-standalone-strict"

if [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"; else PY=python3; fi

die() { echo "k8s/install.sh: $*" >&2; exit 1; }
say() { echo "k8s/install.sh: $*" >&2; }

# The stamp next to a binary names the pinned version it was built from.
have() {  # $1 binary, $2 version
    [[ -x "$BIN/$1" && -f "$BIN/.$1.version" && "$(cat "$BIN/.$1.version")" == "$2" ]]
}

go_install() {  # $1 binary name, $2 version, $3 package@version, $4.. extra go flags
    local name="$1" version="$2" pkg="$3" t0=$SECONDS
    shift 3
    have "$name" "$version" && return 0
    command -v go >/dev/null || die "go is needed to build $name (Go toolchain not found)"
    say "building $pkg (a few minutes on a cold Go cache)"
    # CGO off: static binaries, no C toolchain involved, a faster link.
    GOBIN="$BIN" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
        go install "$@" "$pkg" >"$K8S/$name-build.log" 2>&1 \
        || { cat "$K8S/$name-build.log" >&2; die "go install $pkg failed (log above)"; }
    echo "$version" >"$BIN/.$name.version"
    say "$name $version built in $((SECONDS - t0))s"
}

schemas() {
    local stamp="$KUBERNETES_VALIDATE $K8S_VERSION" tmp t0=$SECONDS
    [[ -f "$SCHEMAS/.stamp" && "$(cat "$SCHEMAS/.stamp")" == "$stamp" ]] && return 0
    tmp=$(mktemp -d "$K8S/wheel.XXXXXX")
    # A hash-pinned requirement: the schemas decide what "valid" means in the tests.
    echo "$KUBERNETES_VALIDATE --hash=sha256:$KUBERNETES_VALIDATE_SHA256" >"$tmp/req.txt"
    "$PY" -m pip download -q --no-deps --only-binary=:all: --require-hashes \
        -r "$tmp/req.txt" -d "$tmp" >"$K8S/schemas.log" 2>&1 \
        || { cat "$K8S/schemas.log" >&2; rm -rf "$tmp"; die "pip download failed (log above)"; }
    "$PY" "$HERE/standalone_schemas.py" "$tmp"/kubernetes_validate-*.whl "$K8S_VERSION" \
        "$SCHEMAS" >&2 || { rm -rf "$tmp"; die "schema conversion failed"; }
    echo "$stamp" >"$SCHEMAS/.stamp"
    rm -rf "$tmp"
    say "schemas for Kubernetes $K8S_VERSION in $((SECONDS - t0))s"
}

install() {
    mkdir -p "$BIN" "$K8S"
    (
        # Parallel test sessions must not build into the same place together.
        flock 9
        # Helm's own Makefile sets these: without them `helm template` assumes Kubernetes 1.20
        # and refuses charts that ask for a newer one.
        local k8s_minor
        k8s_minor=$(cut -d. -f2 <<<"$K8S_VERSION")
        go_install helm "$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" -ldflags "-s -w \
            -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
            -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
            -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor \
            -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
            -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor"
        go_install kubeconform "$KUBECONFORM_VERSION" \
            "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" -ldflags "-s -w"
        schemas
    ) 9>"$K8S/.install.lock"
}

case "${1:-}" in
    "") install ;;
    --print)
        install
        echo "HELM=$BIN/helm"
        echo "KUBECONFORM=$BIN/kubeconform"
        echo "K8S_VERSION=$K8S_VERSION"
        echo "K8S_SCHEMAS=$SCHEMAS"
        ;;
    *) die "usage: install.sh [--print]" ;;
esac
