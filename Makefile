# make run / make test / make bench: each builds .venv first when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed

.PHONY: run test lint bench screenshots messages css bundle audit lock clean mcp-servers litellm

# requirements.lock pins every package make run and make test install (pip constraints): a new
# release reaches a machine only through `make lock`, then make test proves it.
LOCK := requirements.lock

# `make run` needs only the app: no test tools, and none of the desktop window's packages
# that pip builds against system libraries (README: Two commands).
$(RUN_STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev]'
	touch $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/chatapp

lint: $(STAMP)
	$(BIN)/ruff check --no-cache chatapp pages services tests benchmarks tools
	$(BIN)/ruff format --no-cache --check chatapp pages services tests benchmarks tools
	$(BIN)/mypy services

test: $(STAMP) lint mcp-servers litellm
	$(BIN)/python -m pytest -q

# The reference MCP server the tool tests run (over stdio and Streamable HTTP), from the npm
# registry at the version package-lock.json pins; installed once, never at test time.
MCP_EVERYTHING := tools/mcp-everything
mcp-servers: $(MCP_EVERYTHING)/node_modules/.installed
$(MCP_EVERYTHING)/node_modules/.installed: $(MCP_EVERYTHING)/package.json $(MCP_EVERYTHING)/package-lock.json
	cd $(MCP_EVERYTHING) && npm ci --no-audit --no-fund
	touch $@

# The LiteLLM proxy tests/test_litellm.py puts in front of the fake model server, at the versions
# tools/litellm/requirements.txt pins, in a venv of its own: its pins clash with chatapp's.
LITELLM_VENV := .venv-litellm
litellm: $(LITELLM_VENV)/.installed
$(LITELLM_VENV)/.installed: tools/litellm/requirements.txt
	test -x $(LITELLM_VENV)/bin/python || $(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LITELLM_VENV)/bin/python -m pip install --quiet -r tools/litellm/requirements.txt
	touch $@

# Known vulnerabilities in the locked dependencies: pip-audit against OSV where it answers,
# else PyPI's JSON API (tools/audit.py says what each can tell). CI runs it after make test.
audit: $(STAMP)
	$(BIN)/python tools/audit.py $(LOCK)

# Move the pins to the newest releases the project's ranges allow, from a fresh venv.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet '.[dev]'
	{ echo "# make lock: what make run and make test install (as pip constraints) and make audit checks."; \
	  echo "# From a fresh venv with chatapp[dev] on Python 3.11, Linux x86_64."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^chatapp @'; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf .lock-venv

bench: $(STAMP)
	$(BIN)/python -m benchmarks

screenshots: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_screenshots.py

# The translation catalogs (services/locale): extract the sentences, update every .po, say
# what each language still lacks. tests/test_i18n.py fails until nothing is missing.
messages: $(STAMP)
	$(BIN)/python -m tools.messages

# pages/static/tailwind.css, from the classes the pages use (pages/tailwind.css says why). Needs
# Node.js and npm, which fetches the Tailwind CLI of NiceGUI's Tailwind version. Only after
# changing the pages' classes (tests/test_tailwind.py says when): the result is committed.
TAILWIND := 4.1.13
css:
	rm -rf .tailwind && mkdir .tailwind
	cd .tailwind && npm install --no-save --no-audit --no-fund \
		tailwindcss@$(TAILWIND) @tailwindcss/cli@$(TAILWIND)
	sed 's|"\.|"$(CURDIR)/pages|' pages/tailwind.css > .tailwind/in.css  # paths from pages/
	.tailwind/node_modules/.bin/tailwindcss -i .tailwind/in.css -o pages/static/tailwind.css --minify
	rm -rf .tailwind

# The one-folder desktop program dist/chatapp/ (run dist/chatapp/chatapp: a window with no
# arguments, the chatapp command with them). packaging/native/build.py runs PyInstaller as
# nicegui-pack does, plus what chatapp needs; tests/test_bundle.py builds and runs it.
bundle: $(STAMP)
	$(BIN)/python packaging/native/build.py dist
	@echo "on Linux the window also needs GTK and WebKitGTK: docs/deployment.md"

clean:
	rm -rf $(VENV) .lock-venv build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache \
		$(MCP_EVERYTHING)/node_modules $(LITELLM_VENV)
