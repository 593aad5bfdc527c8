#!/usr/bin/env bash
# System packages the adapter integration tests talk to (real peers on loopback / in netns):
# netconfd (yuma123) + OpenSSH for NETCONF, socat for UDP echo, tshark to decode what we send,
# iproute2 for network namespaces, chromium for the console's browser tests (Playwright drives
# Debian's build through executable_path: its own browser download cannot work here).
# prometheus (with promtool) and prometheus-alertmanager for
# the monitoring tests (PADIT is scraped by one and pushes alerts to the other).
# mosquitto (MQTT), libmodbus + gcc + mbpoll (Modbus/TCP),
# prometheus-node-exporter (Prometheus scrape), snmpd + snmp tools (SNMP v2c/v3).
# Idempotent: returns at once when everything is there.
set -euo pipefail

PKGS=(
    netconfd
    netconfd-module-ietf-interfaces
    netconfd-module-ietf-system
    openssh-server
    socat
    tshark
    iproute2
    chromium
    prometheus
    prometheus-alertmanager
    mosquitto
    mosquitto-clients
    libmodbus-dev
    gcc
    libc6-dev
    pkg-config
    mbpoll
    prometheus-node-exporter
    snmpd
    snmp
)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-peers: all present (${PKGS[*]})"
    exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-peers: need root or sudo for: ${missing[*]}" >&2; exit 1; }
    SUDO=(sudo)
fi

echo "install-peers: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; preseed "no" so the install never prompts.
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
