# The README's two commands. Each creates .venv if needed and installs what it needs:
# demo the server extra (it starts a server), test the dev extra (server + test tools).
# Both build the web UI first (Node.js 20+ and npm); test also installs Debian's Chromium for the
# browser tests when it is missing (never a downloaded browser).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

CHROMIUM := /usr/bin/chromium
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench ui chromium

$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# web/ -> src/trackwell/server/ui/dist/, which `trackwell server` serves at /
ui:
	cd web && npm ci --no-audit --no-fund && npm run build

chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests (tests/web)"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

demo: ui $(BIN)/pip
	$(BIN)/pip install -q -e '.[server]'
	$(BIN)/trackwell demo

test: ui chromium $(BIN)/pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pytest

lint: $(BIN)/pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: ui chromium $(BIN)/pip
	$(BIN)/pip install -q -e '.[dev]'  # bench_ui.py drives Chromium with playwright
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done
