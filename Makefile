# The two commands: `make run` and `make test`. Every target sets up what it needs first,
# on a machine with only Python 3.11+, pip and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test fuzz lint format bench clean install install-dev lock audit demo

# The venv's own pip first, at the version and hashes the dev lock pins: the pip a Python
# bundles may be too old for the locks (pip 23.2 refuses an extra, `CacheControl[filecache]`,
# in --require-hashes mode once a newer release of it exists).
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	awk '/^pip==/{p=1} p&&/^    #/{exit} p' requirements-dev.lock > $(VENV)/pip.lock
	$(BIN)/python -m pip --disable-pip-version-check -q install --require-hashes -r $(VENV)/pip.lock

# Dependencies come from the lock files (exact versions with their hashes, the ones CI tested),
# then Intercarga itself without letting pip pick any other version.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(PIP) install -r requirements.lock
	$(PIP) install --no-deps -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements-dev.lock | $(BIN)/python
	$(PIP) install -r requirements-dev.lock
	$(PIP) install --no-deps -e .
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## lock: regenerate requirements.lock and requirements-dev.lock from pyproject.toml
## (pins already there stay unless pyproject.toml excludes them; LOCK_FLAGS=--upgrade moves all)
LOCK_FLAGS ?=
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_FLAGS)
lock: $(VENV)/.installed-dev
	$(PIP_COMPILE) --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra dev --constraint requirements.lock \
		--output-file requirements-dev.lock pyproject.toml

## audit: known vulnerabilities in the locked versions (OSV, else PyPI); .ci/run runs it
audit: $(VENV)/.installed-dev
	$(BIN)/python .ci/audit.py requirements-dev.lock

## run: set up, then serve the example network with its stations simulated in-process
## (`serve --demo`; HTTP :8000 with the dashboard at /, OCPP :9000)
run: $(VENV)/.installed
	$(BIN)/intercarga serve --demo

## demo: a live roaming region on this machine (three CPOs, two eMSPs, a hub, an access point)
demo: $(VENV)/.installed
	$(BIN)/intercarga demo

## test: set up with dev extras, lint, then the whole test suite, two workers per core
# (pytest-xdist; worksteal: a worker that runs out of tests takes some of the others').
# Two per core, since the process tests (over half of the workers' time) mostly wait on their
# servers, simulated time and timeouts: CONTRIBUTING.md, "The suite's time". TEST_WORKERS=N
# overrides it. Bytecode is cached even where the shell sets PYTHONDONTWRITEBYTECODE: without it
# every worker compiles and assert-rewrites each test module again, and every one of the
# hundreds of `intercarga` processes the tests start compiles the package again (__pycache__ is
# git-ignored). Tests are independent: each has its own tmp_path, SQLite file, PostgreSQL schema
# and free ports.
TEST_WORKERS ?= $(shell echo $$((2 * $$(nproc 2>/dev/null || echo 1))))
test: lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

## fuzz: the property tests, long (over 100,000 cases; not part of make test)
# The fuzz profile (tests/fuzzing.py) gives each property its long-run example count.
FUZZ_TESTS := tests/ocpp/test_rpc_fuzz.py tests/ocpi/test_models_fuzz.py tests/billing/test_properties.py
fuzz: $(VENV)/.installed-dev
	INTERCARGA_HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -n auto -o timeout=3600 \
		--hypothesis-show-statistics $(FUZZ_TESTS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

## bench: the benchmarks (filled by the benchmarks issue); writes docs/benchmarks.md
bench: $(VENV)/.installed-dev
	@if [ -f bench/run.py ]; then $(BIN)/python -m bench.run; \
	else echo "no benchmarks yet: bench/run.py arrives with the benchmarks issue"; fi

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
