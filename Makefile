# Two commands set everything up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Write bytecode at install time: commands then skip compiling every module they import
# (several seconds per `attrition` command where PYTHONDONTWRITEBYTECODE is set).
export UV_COMPILE_BYTECODE := 1

.DEFAULT_GOAL := help
.PHONY: help install install-dev demo test-deps test test-fast lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# The setup prints one line per stage and nothing a user has to ignore: pip's warnings
# (-qq keeps its errors), uv's package list (--quiet keeps its errors) and make's own echo
# are silenced.
$(UV):
	@echo "Installing uv $(UV_VERSION) into $(UV_HOME)/ ..."
	@$(PYTHON) -m venv $(UV_HOME)
	@$(UV_HOME)/bin/pip install --quiet --quiet --disable-pip-version-check \
		--root-user-action=ignore uv==$(UV_VERSION)

install: $(UV) ## Create .venv with the locked runtime dependencies
	@echo "Installing the locked dependencies into $(VENV)/ ..."
	@$(UV) sync --quiet --frozen --no-dev --python $(PYTHON)

install-dev: $(UV) ## Create .venv with runtime and dev dependencies
	@echo "Installing the locked runtime and dev dependencies into $(VENV)/ ..."
	@$(UV) sync --quiet --frozen --extra dev --python $(PYTHON)

demo: install ## Run the whole main job on embedded defaults (SQLite, local MLflow)
	@$(BIN)/attrition quickstart

test-deps: ## Check the programs the tests drive; as root, install the missing ones
	@PYTHON=$(PYTHON) scripts/test-deps.sh

test: test-deps install-dev ## The whole suite (starts its own PostgreSQL and Redis)
	@$(BIN)/pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: the suite is broken" >&2; exit 1; fi; \
	exit $$status

test-fast: test-deps install-dev ## Unit tests only, under 2 minutes: the edit-test loop
	$(BIN)/pytest tests/unit -q

lint: install-dev ## ruff (lint + format check) and mypy
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: install-dev ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: install-dev ## Run the benchmarks (they print ratios against baselines)
	@for f in benchmarks/[a-z]*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean: ## Remove local state (var/) and caches, keep .venv
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
