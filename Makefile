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
# One xdist worker per core (2 here); `loadscope` keeps each notebook's cells on one worker, in
# order. One thread per notebook kernel, for the same reason as tests/conftest.py gives.
WORKERS ?= 2
NBVAL := env OMP_NUM_THREADS=1 $(PYTEST) -p no:cacheprovider -n $(WORKERS) --dist loadscope --nbval --nbval-current-env \
	--nbval-sanitize-with book/sanitize.cfg
# Each stage of `make test` is timed and counted; `make test` prints the table at the end.
STAGE := $(BIN)/python tools/stage.py
export TIMEFORMAT := (%1R s)

.PHONY: book build vendor test test-lib test-notebooks test-kernels test-site bench-quick system-deps \
	notebooks clean stages-reset

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
	$(STAGE) build --count pages -- $(BIN)/jupyter-book build . --path-output . -W -n --keep-going $(JB_ALL)

# The website, in _build/html (open _build/html/index.html).
book: build

# Re-execute the notebooks in place, storing outputs and widget state (commit the result).
notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py

# The library's tests (tests/site/ is the browser test: it needs the built site, see test-site).
test-lib: $(STAMP)
	$(STAGE) library --count pytest -- $(PYTEST) -n $(WORKERS) tests --ignore=tests/site

# The committed outputs of every notebook still match a fresh run (nbval); none yet is fine.
test-notebooks: $(STAMP)
ifeq ($(NOTEBOOKS),)
	@echo "no notebooks in book/: nothing for nbval to check"
else
	$(STAGE) notebooks --count pytest -- $(NBVAL) $(NOTEBOOKS)
endif

# nbval once more under each of PyTorch's other CPU kernel sets (AVX2, and plain C++ without
# vector instructions): a compared output must not depend on which kernels the CPU picked.
# Each set gets its own torch.compile cache: a kernel cached under one set does not build
# under another.
test-kernels: $(STAMP) stages-reset
	for capability in avx2 default; do \
	  echo "== nbval with ATEN_CPU_CAPABILITY=$$capability"; \
	  ATEN_CPU_CAPABILITY=$$capability TORCHINDUCTOR_CACHE_DIR=$(CURDIR)/_build/inductor-$$capability \
	  $(STAGE) nbval-$$capability --count pytest -- \
	    $(NBVAL) $(NOTEBOOKS) || exit 1; \
	done
	@$(STAGE) --summary

# The built site in headless Chromium, offline: see tests/site/test_site.py.
test-site: build
	$(STAGE) site --count pytest -- $(PYTEST) -p no:cacheprovider tests/site

# The benchmark's --quick mode, as a smoke run (no timing is asserted; the book's numbers come
# from the full run in attn_lib/bench/results.json, which this does not touch).
bench-quick: $(STAMP)
	mkdir -p _build
	$(STAGE) bench --count bench -- bash -c '$(BIN)/python -m attn_lib.bench --quick \
	  --out _build/bench-quick.json > _build/bench-quick.txt'
	tail -n 8 _build/bench-quick.txt

test: JB_ALL := --all
test: system-deps stages-reset test-lib test-notebooks build test-site bench-quick
	@$(STAGE) --summary

stages-reset:
	@mkdir -p _build && rm -f _build/test-stages.tsv

clean:
	rm -rf _build _vendor
