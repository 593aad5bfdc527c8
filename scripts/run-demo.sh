#!/usr/bin/env bash
# `make run`: a worker with its web view and the demo producer against the broker that
# `make kafka-up` started. Ctrl-C stops what this script started (the broker keeps running:
# `make kafka-down` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${KAFKA_PORT:-9092}"
export PADIT_BROKER="kafka://127.0.0.1:${PORT}"
WEB_PORT="${PADIT_WEB_PORT:-6066}"
export PADIT_WEB_PORT="$WEB_PORT"
# The API's bearer token, which the dashboard asks for: yours if set, else one made for this
# run (printed below).
export PADIT_API_TOKEN="${PADIT_API_TOKEN:-demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')}"
mkdir -p data
pids=()
cleanup() {
    trap - INT TERM EXIT
    echo; echo "run-demo: stopping worker and producer"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

if ! command -v kcat >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -q kcat >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q kcat >/dev/null 2>&1; }) \
        || echo "run-demo: kcat not installed (optional)"
fi

$PY -m padit_stream worker -l info >data/worker.log 2>&1 &
pids+=($!)
echo "run-demo: worker starting (log: data/worker.log), web view on http://127.0.0.1:${WEB_PORT}"
for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:${WEB_PORT}/ready" >/dev/null 2>&1; then break; fi
    if ! kill -0 "${pids[0]}" 2>/dev/null; then tail -40 data/worker.log; exit 1; fi
    sleep 0.5
done
curl -sf "http://127.0.0.1:${WEB_PORT}/ready" >/dev/null || { tail -40 data/worker.log; exit 1; }

$PY -m adapters.demo --broker "127.0.0.1:${PORT}" >data/demo.log 2>&1 &
pids+=($!)

cat <<MSG
run-demo: worker ready; demo producer sending latency_ms for du-1, du-2, web-1 (log: data/demo.log)

  Dashboard:  http://127.0.0.1:${WEB_PORT}/
  API token:  ${PADIT_API_TOKEN}      (the dashboard asks for it once per tab)

Open the dashboard: the sources appear at once, the du-2 chart and its alert within a minute.
The same from a shell:
  kcat -b 127.0.0.1:${PORT} -C -t padit.alerts.v1 -f '%k %s\n'
  kcat -b 127.0.0.1:${PORT} -C -t padit.anomalies.v1 -f '%s\n' -o -5 -e
  $PY -m padit_stream tail alerts           # the same without kcat
  curl -s -H "Authorization: Bearer ${PADIT_API_TOKEN}" http://127.0.0.1:${WEB_PORT}/api/v1/series
  curl -s -H "Authorization: Bearer ${PADIT_API_TOKEN}" http://127.0.0.1:${WEB_PORT}/api/v1/alerts
  curl -s http://127.0.0.1:${WEB_PORT}/ready

API: http://127.0.0.1:${WEB_PORT}/api/v1 (same token; OpenAPI at /api/v1/openapi.json)

Ctrl-C stops the worker and the producer; 'make kafka-down' stops the broker.
MSG
tail -f data/worker.log | grep --line-buffered -E "ALERT|ERROR|dead-letter" &
pids+=($!)
wait "${pids[0]}"
