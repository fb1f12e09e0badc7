# CEA — the two commands a newcomer needs:
#   make run    the platform with demo data (embedded PostgreSQL + Redis unless DATABASE_URL is set)
#   make test   lint, import contracts and the whole test suite
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: help run test lint pytest chromium-check gettext-check translations stop bench complexity clean

help:
	@echo "make run    - serve CEA with demo data on http://127.0.0.1:8000/ (Ctrl-C stops everything)"
	@echo "make test   - ruff, import-linter, mypy and the test suite"
	@echo "make stop   - stop embedded PostgreSQL/Redis left running (e.g. after a crash)"
	@echo "make bench  - the benchmarks under bench/ against DATABASE_URL (figures in docs/performance.md)"
	@echo "make complexity - app functions above cyclomatic complexity 20 (radon; a report, not a gate)"

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The translation catalogs (locale/*/LC_MESSAGES/*.po) compiled to .mo, with polib (docs/translations.md).
translations: $(STAMP)
	@$(PY) -m cea.common.translations

run: $(STAMP) translations
	$(PY) -m cea.runtime run

# mypy's Django plugin imports tests.settings, which wants a database and Redis named (or embedded
# servers running) and, in stack mode, a secret key: placeholders do, as the plugin never connects.
MYPY_ENV := DATABASE_URL=postgres://mypy@127.0.0.1:9/mypy REDIS_URL=redis://127.0.0.1:9/0 SECRET_KEY=mypy-only

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(MYPY_ENV) $(VENV)/bin/mypy

# The browser tests drive Debian's Chromium (they fail, never skip): say so before the suite
# runs, with the one command that installs it.
CHROMIUM_HELP := make test needs Chromium for its browser tests. Install it with: sudo apt-get install -y chromium   (or set CEA_CHROMIUM to a Chromium binary)

chromium-check:
	@command -v "$${CEA_CHROMIUM:-chromium}" >/dev/null 2>&1 || test -x /usr/bin/chromium \
		|| [ "$$CEA_BROWSER_TESTS" = skip ] || { echo "$(CHROMIUM_HELP)" >&2; exit 2; }

# One translation test runs makemessages, which needs GNU gettext (xgettext, msgmerge): say so before
# the suite runs, with the one command that installs it (docs/translations.md).
GETTEXT_HELP := make test needs GNU gettext for its translation tests (makemessages). Install it with: sudo apt-get install -y gettext

gettext-check:
	@command -v xgettext >/dev/null 2>&1 && command -v msgmerge >/dev/null 2>&1 \
		|| { echo "$(GETTEXT_HELP)" >&2; exit 2; }

# Without DATABASE_URL the suite runs against the embedded servers, started for the run.
pytest: $(STAMP) chromium-check gettext-check translations
ifdef DATABASE_URL
	SECRET_KEY=test-only-not-a-secret $(PY) -m pytest $(PYTEST_ARGS)
else
	$(PY) -m cea.runtime exec -- $(PY) -m pytest $(PYTEST_ARGS)
endif

test: lint pytest

stop: $(STAMP)
	$(PY) -m cea.runtime stop

# The benchmarks write many rows: they want a database of their own (see docs/performance.md).
bench: $(STAMP)
	@test -n "$(DATABASE_URL)" || { echo "Set DATABASE_URL (and REDIS_URL) to a database whose name contains 'bench'; see docs/performance.md."; exit 2; }
	$(PY) bench/records.py
	$(PY) bench/context.py
	$(PY) bench/asgi_servers.py
	$(PY) bench/routing.py
	$(PY) bench/sync.py
	$(PY) bench/aggregate.py
	$(PY) bench/wallboard.py
	$(PY) bench/insights.py
	$(PY) bench/ingest.py

# Functions of the apps above cyclomatic complexity 20 (issue 11's bound), worst first. A report for
# whoever refactors, not one of make test's failure conditions.
complexity: $(STAMP)
	$(VENV)/bin/radon cc --min D --order SCORE --show-complexity --exclude "*/migrations/*" cea records integration engagement insights

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache
