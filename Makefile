# The documented commands: `make run` starts the playground, `make test` runs every test,
# `make test-postgres` runs the pytest suite again on PostgreSQL.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
OFFLINE_API_PORT ?= $(shell echo $$(( $(PORT) + 1 )))
OFFLINE_API_LATENCY ?= 2
export OFFLINE_API_PORT OFFLINE_API_LATENCY

.PHONY: install run test test-postgres lint format bench

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test,dev]"
	touch $@

# The npm packages of package.json (the `openai` SDK that tests/clients/ drive), where node and
# npm are installed; without them those tests skip (and fail on CI). No lock file is kept: npm's
# record download addresses.
node_modules/.installed: package.json
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
		npm install --no-package-lock --no-audit --no-fund && \
		rm -f node_modules/.package-lock.json && touch $@; \
	else \
		echo "node or npm not found: npm packages not installed (tests/clients/ need them)" >&2; \
	fi

install: $(VENV)/.installed

run: install
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py collectstatic --noinput -v0
	@mode=$$($(PY) manage.py prepare_playground | tee /dev/stderr | tail -n 1); \
	procs="web worker"; if [ "$$mode" = offline ]; then procs="web worker offline"; fi; \
	echo "Open http://127.0.0.1:$(PORT)/  (Ctrl-C stops everything)"; \
	WEB_PORT=$(PORT) exec $(VENV)/bin/honcho -f Procfile start $$procs

test: install node_modules/.installed
	$(PY) -m pytest tests
# tests/js/: the browser modules' pure parts. The files are listed by the shell (every node
# version takes file names), and none found fails the run rather than passing with 0 tests.
	@ls tests/js/*.test.mjs >/dev/null 2>&1 || { echo "no JavaScript tests in tests/js/" >&2; exit 1; }
	node --test tests/js/*.test.mjs

# The whole pytest suite again, on a throwaway PostgreSQL cluster on loopback (as root it runs
# as the `postgres` user). Fails without PostgreSQL, and on any test skipped for want of it.
test-postgres: install node_modules/.installed
	$(PY) -m tests.run_on_postgres tests

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) bench/bench_jobs.py
	$(PY) bench/bench_edit_memory.py
	$(PY) bench/bench_edit_cpu.py
	$(PY) bench/bench_page_weight.py
	$(PY) bench/bench_open_pages.py
	$(PY) bench/bench_gallery.py
	$(PY) bench/bench_api.py
	$(PY) bench/bench_callbacks.py
