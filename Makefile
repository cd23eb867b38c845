# make run / make test / make bench: each builds .venv first when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed

.PHONY: run test lint bench screenshots bundle audit clean

# `make run` needs only the app: no test tools, and none of the desktop window's packages
# that pip builds against system libraries (README: Two commands).
$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/chatapp

lint: $(STAMP)
	$(BIN)/ruff check --no-cache chatapp pages services tests benchmarks
	$(BIN)/ruff format --no-cache --check chatapp pages services tests benchmarks
	$(BIN)/mypy services

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

# Known vulnerabilities in the installed dependencies (needs pypi.org's JSON API or OSV).
audit: $(STAMP)
	$(BIN)/pip-audit --local --strict --progress-spinner off

bench: $(STAMP)
	$(BIN)/python -m benchmarks

screenshots: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_screenshots.py

# The one-folder desktop program dist/chatapp/ (run dist/chatapp/chatapp: a window with no
# arguments, the chatapp command with them). packaging/native/build.py runs PyInstaller as
# nicegui-pack does, plus what chatapp needs; tests/test_bundle.py builds and runs it.
bundle: $(STAMP)
	$(BIN)/python packaging/native/build.py dist
	@echo "on Linux the window also needs GTK and WebKitGTK: docs/deployment.md"

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
