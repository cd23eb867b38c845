# make run / make test / make bench: each builds .venv first when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench screenshots bundle audit clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
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

# A one-file desktop program in dist/. nicegui-pack runs `python -m PyInstaller`, so the
# venv's python must come first on PATH.
bundle: $(STAMP)
	$(BIN)/python -m pip install --quiet pyinstaller 'pywebview>=5'
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nicegui-pack --onefile --windowed --noconfirm \
		--name chatapp --add-data "pages/static:pages/static" packaging/native/main.py
	@echo "built dist/chatapp (on Linux the window also needs GTK and WebKitGTK: docs/deployment.md)"

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
