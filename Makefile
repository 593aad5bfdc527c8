# PADIT: `make run` (broker, worker, demo producer, web view) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KAFKA_PORT ?= 9092
export KAFKA_PORT

.PHONY: setup ui ui-lint ui-test peers kafka-fetch k8s-tools kafka-up kafka-down lint format test test-unit bench \
	bench-adapters soak run clean dashboards

setup: $(VENV)/.installed ui

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# The operator console (ui/, TypeScript + Vite): npm ci from the lockfile, then a build into
# padit_stream/ui_dist, which the worker serves at / and a wheel carries. Rebuilt only when
# ui/ changes.
UI_DIST := padit_stream/ui_dist/index.html
UI_SRC := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/vite.config.ts ui/tsconfig.json
UI_MODULES := ui/node_modules/.package-lock.json

ui: $(UI_DIST)

$(UI_MODULES): ui/package.json ui/package-lock.json
	@command -v npm >/dev/null || { echo "make ui: npm not found; install Node.js 18+ (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	cd ui && npm ci --no-audit --no-fund
	touch $@

$(UI_DIST): $(UI_MODULES) $(UI_SRC)
	cd ui && npm run build

ui-lint: $(UI_MODULES)
	cd ui && npm run lint

ui-test: $(UI_MODULES)
	cd ui && npm test

# System packages for the real test peers (netconfd, sshd, socat, tshark, chromium,
# prometheus, alertmanager) and tools (kcat, docker-compose).
peers:
	bash scripts/install-peers.sh
	bash scripts/install-tools.sh

kafka-fetch:
	bash tools/kafka/kafka.sh fetch

kafka-up: setup
	bash tools/kafka/kafka.sh up --port $(KAFKA_PORT)

kafka-down:
	bash tools/kafka/kafka.sh down

lint: setup ui-lint
	$(VENV)/bin/ruff check padit_stream adapters tests
	$(VENV)/bin/ruff format --check padit_stream adapters tests
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format padit_stream adapters tests
	$(VENV)/bin/ruff check --fix padit_stream adapters tests

test-unit: setup ui-test
	$(VENV)/bin/pytest tests/unit -q

# helm + kubeconform built from the Go module proxy, Kubernetes schemas (tests of the chart).
k8s-tools: setup
	bash tools/k8s/install.sh

test: setup peers kafka-fetch k8s-tools lint ui-test
	$(VENV)/bin/pytest -q -ra --durations=15

bench: setup kafka-up
	$(PY) -m padit_stream.bench

# Chaos soak, not in CI: 3 workers, seeded faults, checks at the end (SOAK_ARGS="--minutes 5").
soak: setup kafka-fetch
	$(PY) -m tests.soak $(SOAK_ARGS)

# Grafana dashboards (config/grafana/*.json) from scripts/grafana_dashboards.py (grafanalib).
dashboards: setup
	$(PY) scripts/grafana_dashboards.py

# Metrics/s one adapters process handles: MQTT (mosquitto + a publisher process) and CAN
# (can.player over udp_multicast), records into memory, then into Kafka.
bench-adapters: setup kafka-up
	$(PY) -m adapters.bench
	$(PY) -m adapters.bench --broker 127.0.0.1:$(KAFKA_PORT)

run: setup kafka-up
	bash scripts/run-demo.sh

clean:
	rm -rf data results .pytest_cache .mypy_cache .ruff_cache
