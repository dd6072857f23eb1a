# Two commands do everything: `make book` and `make test` (see README.md).
SHELL  := bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip install --quiet
# `npm ci` empties node_modules/ and reinstalls it from package-lock.json: only when that changed.
NPM_STAMP := node_modules/.installed
NOTEBOOKS := $(wildcard book/*.ipynb)
# Strict: every warning is an error (-W), every broken reference too (-n); --keep-going lists
# them all before failing. `make test` rebuilds everything (--all): an incremental build does
# not repeat the warnings of pages it does not re-read.
JB_ALL :=
PYTEST := $(BIN)/python -m pytest -q
export TIMEFORMAT := (%1R s)

.PHONY: book build vendor test test-lib test-notebooks test-site bench-quick system-deps notebooks clean

# The venv is rebuilt whenever the pinned environment or the package metadata changes.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip "setuptools>=68"
	$(PIP) -r requirements.txt
	$(PIP) --no-deps --no-build-isolation -e .
	touch $@

# Programs pip cannot install: graphviz's `dot` (diagrams), Debian's chromium (the site test),
# node and npm (the site's MathJax and widget manager).
system-deps:
	@bash .ci/system-deps

$(NPM_STAMP): package.json package-lock.json | system-deps
	time npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# MathJax and the widget manager, copied into _vendor/ (served as _build/html/_static/npm/).
vendor: $(NPM_STAMP)
	npm run --silent vendor

build: $(STAMP) system-deps vendor
	time $(BIN)/jupyter-book build . --path-output . -W -n --keep-going $(JB_ALL)

# The website, in _build/html (open _build/html/index.html).
book: build

# Re-execute the notebooks in place, storing outputs and widget state (commit the result).
notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py

# The library's tests (tests/site/ is the browser test: it needs the built site, see test-site).
test-lib: $(STAMP)
	time $(PYTEST) tests --ignore=tests/site

# The committed outputs of every notebook still match a fresh run (nbval); none yet is fine.
test-notebooks: $(STAMP)
ifeq ($(NOTEBOOKS),)
	@echo "no notebooks in book/: nothing for nbval to check"
else
	rc=0; time $(PYTEST) -p no:cacheprovider --nbval --nbval-current-env \
	  --nbval-sanitize-with book/sanitize.cfg $(NOTEBOOKS) || rc=$$?; \
	if [[ $$rc -eq 5 ]]; then echo "nbval: no cells to check"; else exit $$rc; fi
endif

# The built site in headless Chromium, offline: see tests/site/test_site.py.
test-site: build
	time $(PYTEST) -p no:cacheprovider tests/site

# The benchmark's --quick mode, as a smoke run (no timing is asserted; the book's numbers come
# from the full run in attn_lib/bench/results.json, which this does not touch).
bench-quick: $(STAMP)
	mkdir -p _build
	time $(BIN)/python -m attn_lib.bench --quick --out _build/bench-quick.json > _build/bench-quick.txt
	tail -n 8 _build/bench-quick.txt

test: JB_ALL := --all
test: system-deps test-lib test-notebooks build test-site bench-quick

clean:
	rm -rf _build _vendor
