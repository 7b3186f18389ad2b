# The two commands: `make run` (the whole local stack) and `make test` (everything).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run fetch lint test unit integration bench clean

help:
	@echo "make run    - the local stack (Keycloak on 127.0.0.1:8080) until Ctrl-C"
	@echo "make test   - install, fetch Keycloak if needed, lint, run every test"
	@echo "make lint   - ruff, mypy and the architecture's import contracts"
	@echo "make unit   - only the tests that need no server"
	@echo "make integration - the tests with real servers (Keycloak, Redis, SMTP), no browser"
	@echo "make bench  - the benchmarks in bench/ (see bench/README.md)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "idpack needs Python 3.11 or newer: set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/idpack up

fetch: $(STAMP)
	$(BIN)/idpack keycloak fetch

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint fetch
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest -m unit

integration: fetch
	$(BIN)/pytest -m "peers or integration"

bench: fetch
	$(BIN)/python bench/keycloak_start.py
	$(BIN)/python bench/cli_start.py
	$(BIN)/python bench/realm_plan.py
	$(BIN)/python bench/sidecar_lookup.py
	$(BIN)/python bench/relay_throughput.py
	$(BIN)/python bench/reset_timing.py
	$(BIN)/python bench/deploy_load.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
