# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-out

AXE := tests/a11y/node_modules/axe-core/axe.min.js

.PHONY: demo test test-fast test-without-bwrap lint clean a11y maybe-a11y

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/grader data
	$(BIN)/grader grade solutions/02_dataset.ipynb --out $(DEMO_OUT)/solution
	$(BIN)/grader grade exercises/02_dataset.ipynb --out $(DEMO_OUT)/stub
	@echo "HTML report: $(abspath $(DEMO_OUT))/solution/report.html"
	$(BIN)/python samples/make_sample_class.py $(DEMO_OUT)/sample-class
	$(BIN)/grader bulk $(DEMO_OUT)/sample-class --out $(DEMO_OUT)/class --cell-timeout 20 --notebook-timeout 120
	@echo "Class report: $(abspath $(DEMO_OUT))/class/index.html"

test: $(STAMP) maybe-a11y
	$(BIN)/python -m pytest

test-fast: $(STAMP) maybe-a11y
	$(BIN)/python -m pytest -m "not slow"

# The tests that start kernels, as on a fresh machine where bubblewrap is not installed: a mount
# namespace masks the binary (needs root). Where bubblewrap is not installed, they simply run.
test-without-bwrap: $(STAMP)
	@if command -v bwrap >/dev/null; then \
	  unshare --mount --propagation private sh -c 'mount --bind /dev/null "$$(command -v bwrap)" && exec "$$0" "$$@"' \
	    $(BIN)/python -m pytest -m slow; \
	else $(BIN)/python -m pytest -m slow; fi

# axe-core for tests/test_accessibility.py, from the committed lock file (npm gives its files an
# old mtime: touch, so that make sees it fresh). Run by .ci/run, where it must succeed.
a11y: $(AXE)
$(AXE): tests/a11y/package.json tests/a11y/package-lock.json
	cd tests/a11y && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# For make test: without npm, or offline, the accessibility tests skip, saying why.
maybe-a11y:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory a11y || \
	  echo "npm ci failed in tests/a11y: the accessibility tests will skip"; \
	else echo "npm not found: the accessibility tests will skip (apt-get install nodejs npm)"; fi

# Checks on the code (configured in pyproject.toml): style and imports, then types.
lint: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO_OUT) exercises/data tests/a11y/node_modules
