# Two commands do everything on a fresh machine:
#   make run    set up, then run the main job (all SOPs over the sample CRM) and serve the admin
#   make test   set up with test dependencies, then lint, check import boundaries, type-check,
#               run all tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test demo-check bench eval

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
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

# Score the verifier on sop_library/cases/ (throwaway SQLite DB): stopped-bad / passed-good per SOP
eval: install
	$(BIN)/python bench/eval_cases.py
