# Two commands a fresh machine (Python 3.11+ and make) needs: `make run` and `make test`.
# Each creates .venv on first use; `run` installs only what the app needs, `test` adds the
# test extra (SDKs used as oracles, linters, snapshot tools). Both install the exact versions
# in $(CONSTRAINTS), the set the suite and its snapshots were checked with; users installing
# the package get pyproject.toml's ranges.
PYTHON ?= python3
CONSTRAINTS := constraints/test.txt
PIP_INSTALL = $(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS)
VENV := .venv
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-fast deps-test lint bench constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(APP_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e '.[test]'
	touch $@ $(APP_STAMP)

run: $(APP_STAMP)
	$(BIN)/llmstream-tui

# Everything the suite needs installed; .ci/run calls it before cutting the network.
deps-test: $(TEST_STAMP)

# The whole suite, lint and type checks first (what CI runs).
test: lint
	$(BIN)/python -m pytest -q -n 2

# The same without the slow tests (million-chunk, memory, whole-process): for the edit loop.
test-fast: lint
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Every benchmark (several minutes): one table, bench/results/latest.json. Figures into
# bench/README.md: make bench BENCH_ARGS=--update-readme; a quick check: BENCH_ARGS=--smoke.
bench: $(TEST_STAMP)
	$(PIP_INSTALL) -e '.[test,bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

# Pin what .venv holds now (after installing a new package into it): the header is kept.
constraints: $(TEST_STAMP)
	{ sed -n '/^#/p' $(CONSTRAINTS); $(BIN)/python -m pip freeze --exclude-editable \
	  | grep -v ' @ '; } > $(CONSTRAINTS).new && mv $(CONSTRAINTS).new $(CONSTRAINTS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
