# The few commands people type.  README and CI call these.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup setup-test setup-browser setup-bench run ingest test test-fast lint eval bench clean

setup: $(BIN)/qbank ## create .venv: CPU torch first, then qbank with its export and test extras

$(BIN)/qbank: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch 2.13.0 first: the CPU build from local disk. Any other request pulls multi-GB CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[export,test]'
	touch $@

setup-test: ## Debian's Chromium, nginx and PostgreSQL for the browser, proxy and store tests (needs root or sudo)
	@{ command -v chromium && { command -v nginx || test -x /usr/sbin/nginx; } \
	   && { command -v initdb || ls /usr/lib/postgresql/*/bin/initdb; }; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium nginx postgresql >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium nginx postgresql >/dev/null; fi; }

setup-browser: setup-test ## the former name of setup-test

setup-bench: ## Debian's wrk, the bench's HTTP load generator (without it the bench falls back to a Python client that shares the CPU with the server)
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi; }

run: setup ## serve the shipped bank on http://localhost:8000 (builds the index on first start)
	$(BIN)/qbank serve --host 0.0.0.0 --port 8000

ingest: setup
	$(BIN)/qbank ingest

test: setup setup-test ## the full test suite, slow and browser tests included
	$(BIN)/python -m pytest

test-fast: setup ## the fast lane: unit and API tests, no slow, server or browser tests (about a minute)
	$(BIN)/python -m pytest -q -m "not slow and not server and not browser"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

eval: setup
	$(BIN)/qbank eval

# The extra banks (tests/fixtures/corpus-extra) give the ingest and scale sections
# four banks instead of one, as in BENCHMARKS.md.
bench: setup setup-bench
	$(BIN)/qbank bench --extra tests/fixtures/corpus-extra

clean:
	rm -rf $(VENV) .qbank *.egg-info
