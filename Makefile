# PADIT: `make run` (broker, worker, demo producer, web view) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KAFKA_PORT ?= 9092
export KAFKA_PORT

.PHONY: setup peers kafka-fetch k8s-tools kafka-up kafka-down lint format test test-unit bench bench-adapters run clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# System packages for the real test peers (netconfd, sshd, socat, tshark) and tools (kcat,
# docker-compose).
peers:
	bash scripts/install-peers.sh
	bash scripts/install-tools.sh

kafka-fetch:
	bash tools/kafka/kafka.sh fetch

kafka-up: setup
	bash tools/kafka/kafka.sh up --port $(KAFKA_PORT)

kafka-down:
	bash tools/kafka/kafka.sh down

lint: setup
	$(VENV)/bin/ruff check padit_stream adapters tests
	$(VENV)/bin/ruff format --check padit_stream adapters tests
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format padit_stream adapters tests
	$(VENV)/bin/ruff check --fix padit_stream adapters tests

test-unit: setup
	$(VENV)/bin/pytest tests/unit -q

# helm + kubeconform built from the Go module proxy, Kubernetes schemas (tests of the chart).
k8s-tools: setup
	bash tools/k8s/install.sh

test: setup peers kafka-fetch k8s-tools lint
	$(VENV)/bin/pytest -q -ra --durations=15

bench: setup kafka-up
	$(PY) -m padit_stream.bench

# Metrics/s one adapters process handles: MQTT (mosquitto + a publisher process) and CAN
# (can.player over udp_multicast), records into memory, then into Kafka.
bench-adapters: setup kafka-up
	$(PY) -m adapters.bench
	$(PY) -m adapters.bench --broker 127.0.0.1:$(KAFKA_PORT)

run: setup kafka-up
	bash scripts/run-demo.sh

clean:
	rm -rf data results .pytest_cache .mypy_cache .ruff_cache
