# Two commands a fresh machine (Python 3.11+ and make) needs: `make run` and `make test`.
# Each creates .venv on first use; `run` installs only what the app needs, `test` adds the
# test extra (SDKs used as oracles, linters, snapshot tools).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-fast deps-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(APP_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
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
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
