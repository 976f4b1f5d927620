# Carnet: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export HOST PORT

.PHONY: run test install install-dev lock upgrade-deps translations pdf-deps chromium lint typecheck unit e2e unit-postgres extract-messages clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs come from the hashed lock files, never from pyproject.toml's ranges; the project
# itself is added on top without resolving anything. Reinstall only when either file changes.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# The lock files are generated from pyproject.toml by pip-tools, needed here only. PyPI alone is
# asked (the local pip configuration, mirrors and find-links, is set aside) so that every hash
# is one of PyPI's files. The dev lock is constrained by the runtime one: same versions in both.
# `make lock` keeps the current pins where the ranges allow; UPGRADE=1 moves them all forward.
PIP_COMPILE = env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT \
	PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe $(if $(UPGRADE),--upgrade)

lock: | $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(PIP_COMPILE) --output-file requirements.txt pyproject.toml
	$(PIP_COMPILE) --extra dev --constraint requirements.txt --output-file requirements-dev.txt pyproject.toml

upgrade-deps:
	$(MAKE) lock UPGRADE=1

install: $(VENV)/.installed translations pdf-deps

install-dev: $(VENV)/.installed-dev translations pdf-deps

# Compiled catalogues are not committed; they are built from the .po files at install.
translations: $(VENV)/.installed
	@$(BIN)/pybabel compile --use-fuzzy -d webapp/translations

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o webapp/translations/messages.pot .
	$(BIN)/pybabel update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching

# Letters are laid out for Liberation Sans; WeasyPrint wants HarfBuzz-Subset for its fonts.
pdf-deps:
	@{ fc-list 2>/dev/null | grep -q "Liberation Sans" && ldconfig -p | grep -q libharfbuzz-subset && command -v pdftotext >/dev/null; } || { \
	  echo "Installing the fonts and libraries the PDF letters need, and pdftotext for the tests..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-liberation libharfbuzz-subset0 poppler-utils >/dev/null; }

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's Chromium for the browser tests..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: install
	@mkdir -p instance
	@test -f instance/environment || echo development > instance/environment
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	@echo "Delivering e-mail in the background (flask outbox work)."
	@$(BIN)/flask outbox work > instance/outbox.log 2>&1 & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/flask run --host "$(HOST)" --port "$(PORT)" --no-debugger --no-reload

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

unit: install-dev
	env -u TEST_DATABASE_URL $(BIN)/pytest tests -q

unit-postgres: install-dev
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "Running tests/ again on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  $(BIN)/pytest tests -q; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL pass skipped."; fi

e2e: install-dev chromium
	env -u TEST_DATABASE_URL $(BIN)/pytest e2e -q --output test-results --screenshot only-on-failure

test: lint typecheck unit e2e unit-postgres

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache test-results
