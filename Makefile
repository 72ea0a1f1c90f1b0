# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test test-shifted lint bench browser faketime clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

# Debian's Chromium drives the browser tests; installed once when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update && apt-get install -y chromium; }

# libfaketime shifts the wall clock for test-shifted; installed once when missing.
faketime:
	@command -v faketime >/dev/null 2>&1 || { apt-get update && apt-get install -y faketime; }

demo: $(INSTALLED)
	$(BIN)/openbwv demo

lint: $(INSTALLED)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: $(INSTALLED) browser lint
	$(BIN)/pytest

# The SQLite half again with the wall clock 400 days ahead: no test may depend on the day it runs.
# Only the calendar moves: a shifted monotonic clock would stretch every timed wait (a lock's
# timeout, a thread's join) by 400 days.
test-shifted: $(INSTALLED) browser faketime
	FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f '+400d' $(BIN)/pytest -q -p no:cacheprovider -k "not postgresql"

bench: $(INSTALLED)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
