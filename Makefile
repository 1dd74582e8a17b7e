# The two commands of the README's quick start, plus helpers.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean messages

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# An editable install compiles nothing: without this, a shell that sets PYTHONDONTWRITEBYTECODE compiles
	# every module from source on each run (a third of `sendwell bounces classify`'s start-up).
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sendwell demo

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) sendwell.db sendwell.db-wal sendwell.db-shm sendwell.db-writers

# Re-extract the UI's strings and merge them into the catalogues; then translate the new empty msgstr in
# src/sendwell/locale/vi/LC_MESSAGES/messages.po (tests/web/test_i18n_catalogue.py fails until every one is).
messages: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header --no-wrap -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d src/sendwell/locale -D messages --no-fuzzy-matching --ignore-obsolete --no-wrap --ignore-pot-creation-date
