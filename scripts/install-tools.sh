#!/usr/bin/env bash
# Operator tools used by tests and `make run`: kcat (topic inspection) and docker-compose
# (validates docker/compose.yaml; no Docker engine needed for `config`). Idempotent.
set -euo pipefail
missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
[[ ${#missing[@]} -eq 0 ]] && { echo "install-tools: all present"; exit 0; }
SUDO=()
[[ $(id -u) -ne 0 ]] && SUDO=(sudo)
echo "install-tools: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { "${SUDO[@]}" apt-get update -q >/dev/null && "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; }
