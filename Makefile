# Everything starts from a bare `python3`: the first target that needs the virtualenv makes it,
# and reinstalls only when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install browser demo test lint format bench evaluate clean

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
# Installed when missing and this user may use apt-get; elsewhere those tests skip, saying why.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
			|| echo "chromium could not be installed; the browser tests will be skipped"; \
	fi

demo: $(STAMP)
	$(BIN)/dampwatch demo

test: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

evaluate: $(STAMP)
	$(BIN)/python -m bench.evaluate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
