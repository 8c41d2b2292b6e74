# Two commands do everything on a fresh machine:
#   make run    set up, then run the main job (all SOPs over the sample CRM) and serve the admin
#   make test   set up with test dependencies, then lint, check import boundaries, run all tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test demo-check bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install install-test: $(VENV)/.installed

run: install
	$(BIN)/python manage.py demo $(ARGS)

test: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run_all.py
