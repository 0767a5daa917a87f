# sealops — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help venv cluster-binaries monitoring-binaries chromium cluster cluster-down demo lint test test-unit test-integration bench clean

help:
	@echo "make demo          set up, start a local control plane and run the end-to-end demo"
	@echo "make test          set up, lint and run the whole test suite (unit + integration)"
	@echo "make cluster       start a local control plane in the background (.cluster/kubeconfig)"
	@echo "make cluster-down  stop it"
	@echo "make bench         run the benchmark scripts"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

cluster-binaries:
	bash scripts/setup-control-plane.sh

monitoring-binaries:
	bash scripts/setup-prometheus.sh

chromium:
	bash scripts/setup-chromium.sh

cluster: venv cluster-binaries
	$(PY) -m tests.harness.controlplane up --state-dir .cluster

cluster-down:
	@if [ -x $(PY) ]; then $(PY) -m tests.harness.controlplane down --state-dir .cluster; fi

demo: venv cluster-binaries
	$(PY) -m scripts.demo

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy sealer controller
	$(VENV)/bin/lint-imports

test-unit: venv
	$(VENV)/bin/pytest tests/unit -q -p no:cacheprovider

test-integration: venv cluster-binaries monitoring-binaries chromium
	$(VENV)/bin/pytest tests/integration -q -p no:cacheprovider

test: venv cluster-binaries monitoring-binaries chromium lint
	$(VENV)/bin/pytest tests -q -p no:cacheprovider

bench: venv cluster-binaries
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean: cluster-down
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
