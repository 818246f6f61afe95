# The README's two commands. Each creates .venv if needed and installs what it needs:
# demo the server extra (it starts a server), test the dev extra (server + test tools).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench

$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

demo: $(BIN)/pip
	$(BIN)/pip install -q -e '.[server]'
	$(BIN)/trackwell demo

test: $(BIN)/pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pytest

lint: $(BIN)/pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(BIN)/pip
	$(BIN)/pip install -q -e '.[server]'
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done
