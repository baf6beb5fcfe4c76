# Thin wrappers around the invoke tasks in tasks.py (`.venv/bin/invoke --list` shows them all).
# `make demo`, `make test` and friends first bootstrap .venv: created with `python3 -m venv` if missing, and
# `pip install -e '.[dev]'` re-run whenever pyproject.toml is newer than the install stamp.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
INVOKE := $(VENV)/bin/invoke
STAMP := $(VENV)/.nautobot-contracts-installed

# CI (CI=true, as in .ci/run) rebuilds the test database from scratch; locally the existing one is reused
# (pending migrations are still applied). Extra pytest arguments: make test PYTEST_ARGS="-k contract -x".
TEST_FLAGS := $(if $(filter true True TRUE 1 yes,$(CI)),--fresh,)
PYTEST_ARGS ?=

.PHONY: help bootstrap demo start test stop status lint docs check-migrations

help:
	@echo "make demo              run Nautobot with the app at http://127.0.0.1:8080 (admin/admin, API token printed)"
	@echo "make test              run the test suite (CI=true: on a freshly created test database)"
	@echo "make stop              stop what 'make demo' started (and the project-local PostgreSQL/Redis, if any)"
	@echo "make status            show what is running"
	@echo "make lint              ruff check + ruff format --check"
	@echo "make docs              mkdocs build --strict"
	@echo "make check-migrations  fail if a model change has no migration"
	@echo "make bootstrap         create .venv and install the app with its dev extras"

bootstrap: $(STAMP)

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.10-3.13 (sudo apt-get install -y python3 python3-venv)."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] < (3, 14) else 1)' || { \
		echo "nautobot-contracts needs Python 3.10-3.13, but $(PYTHON) is $$($(PYTHON) -V 2>&1)."; \
		echo "Run with another interpreter, e.g.: make $(MAKECMDGOALS) PYTHON=python3.11"; exit 1; }
	@echo "==> $(PYTHON) -m venv $(VENV)"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "Creating the virtualenv failed. On Debian/Ubuntu: sudo apt-get install -y python3-venv"; exit 1; }

$(STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "==> $(VENV)/bin/python -m pip install -e '.[dev]'  (a few minutes the first time)"
	@$(VENV)/bin/python -m pip install --disable-pip-version-check -q -e '.[dev]'
	@touch $@

demo: bootstrap
	@$(INVOKE) demo

start: bootstrap
	@$(INVOKE) start

test: bootstrap
	@$(INVOKE) tests $(TEST_FLAGS) $(if $(PYTEST_ARGS),--extra "$(PYTEST_ARGS)",)

stop:
	@if [ -x $(INVOKE) ]; then $(INVOKE) stop; else echo "No $(VENV) here: nothing was started."; fi

status:
	@if [ -x $(INVOKE) ]; then $(INVOKE) status; else echo "No $(VENV) here: nothing was started."; fi

lint: bootstrap
	@$(INVOKE) ruff

docs: bootstrap
	@$(INVOKE) docs

check-migrations: bootstrap
	@$(INVOKE) check-migrations
