# Two commands do everything: `make book` and `make test` (see README.md).
SHELL  := bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip install --quiet

.PHONY: book test test-lib system-deps notebooks clean

# The venv is rebuilt whenever the pinned environment or the package metadata changes.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip "setuptools>=68"
	$(PIP) -r requirements.txt
	$(PIP) --no-deps --no-build-isolation -e .
	touch $@

# Programs pip cannot install: graphviz's `dot` (diagrams).
system-deps:
	@bash .ci/system-deps

test-lib: $(STAMP)
	$(BIN)/python -m pytest -q tests

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q tests

book: $(STAMP) system-deps
	$(BIN)/jupyter-book build . --path-output . -W -n --keep-going

clean:
	rm -rf _build
