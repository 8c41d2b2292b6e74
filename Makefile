# Two commands do everything on a fresh machine:
#   make run    set up, then run the main job (all SOPs over the sample CRM) and serve the admin
#   make test   set up with test dependencies, then lint, check import boundaries, type-check,
#               run all tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test chromium demo-check bench eval

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed chromium

# The browser tests drive Debian's Chromium (Playwright downloads no browser of its own):
# installed from the distribution's packages when missing and we are root; otherwise they say
# how, and the tests skip (outside CI) or fail (CI=true).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "browser tests: /usr/bin/chromium is missing; run 'sudo apt-get install -y chromium'"; \
	fi

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
