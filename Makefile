# chatledger: everything runs from the project's own virtual environment in .venv.

PY ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV = .venv
BIN = $(VENV)/bin
BENCH_ARGS ?=

.PHONY: install run test lint fmt bench bench-core clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install -e '.[dev,bench]'
	touch $@

run: install
	$(BIN)/chatledger serve

# One worker per core: each worker has its own PostgreSQL database and temporary files.
test: install
	$(BIN)/python -m pytest -n auto

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain projections
	$(BIN)/lint-imports

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The peer suite (issue 6): chatledger beside LangGraph, the Agents SDK and the raw drivers.
bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench.peers $(BENCH_ARGS)

# chatledger's own suites: appends against the floor in depth, and chat-turn overhead.
bench-core: $(VENV)/.bench-installed
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) dist build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
