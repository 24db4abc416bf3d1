# The two commands: `make run` and `make test`. Every target sets up what it needs first,
# on a machine with only Python 3.11+, pip and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint format bench clean install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: set up, then serve the example network (HTTP :8000, OCPP :9000)
run: $(VENV)/.installed
	$(BIN)/intercarga serve --seed

## test: set up with dev extras, lint, then the whole test suite
test: lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

## bench: the benchmarks (filled by the benchmarks issue); writes docs/benchmarks.md
bench: $(VENV)/.installed-dev
	@if [ -f bench/run.py ]; then $(BIN)/python -m bench.run; \
	else echo "no benchmarks yet: bench/run.py arrives with the benchmarks issue"; fi

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
