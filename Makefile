# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The pages' browser libraries (Leaflet for the live map), from the npm registry as package-lock.json pins them.
LEAFLET := node_modules/leaflet/dist/leaflet.js

.PHONY: demo test test-slow test-shifted lint bench mutation browser faketime clean

# Every target that needs the venv gets the browser libraries too (order-only: installing them never
# rebuilds the venv).
$(INSTALLED): pyproject.toml | $(LEAFLET)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

$(LEAFLET): package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm (Node 20) is needed to install the pages' browser libraries" >&2; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

# Debian's Chromium drives the browser tests; installed once when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update && apt-get install -y chromium; }

# libfaketime shifts the wall clock for test-shifted; installed once when missing.
faketime:
	@command -v faketime >/dev/null 2>&1 || { apt-get update && apt-get install -y faketime; }

demo: $(INSTALLED)
	$(BIN)/openbwv demo

lint: $(INSTALLED)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy

# Most tests wait on a server, a broker or a disk more than they compute: several run at once
# (pytest-xdist), even on 2 cores.
TEST_WORKERS ?= 3

test: $(INSTALLED) browser lint
	$(BIN)/pytest -m "not slow" -n $(TEST_WORKERS) --dist loadgroup

# The soak and fault tests (kill -9, 500 uploads at once, fuzzing): CI runs them after `make test`.
test-slow: $(INSTALLED) browser
	$(BIN)/pytest -m slow

# The SQLite half again with the wall clock 400 days ahead: no test may depend on the day it runs.
# libfaketime moves the monotonic clock too, and a timed lock wait (which the kernel measures
# against its own monotonic clock) then lasts 400 days: the one test that waits for a lock to time
# out runs in `make test` only. (Leaving the monotonic clock alone breaks every sleep instead.)
test-shifted: $(INSTALLED) browser faketime
	faketime -f '+400d' $(BIN)/pytest -q -p no:cacheprovider -k "not postgresql and not lock_in_time"

bench: $(INSTALLED)
	$(BIN)/python -m bench

# Mutation testing of the rule modules (slow, so not part of `make test`): a fresh mutmut run over
# the SQLite half of their tests, then the score table, printed and written into docs/TESTING.md.
mutation: $(INSTALLED)
	rm -rf mutants
	$(BIN)/python tools/mutation.py

clean:
	rm -rf mutants $(VENV) node_modules var .mypy_cache .ruff_cache .pytest_cache
