# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-out

.PHONY: demo test test-fast bench clean

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

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf $(VENV) $(DEMO_OUT) exercises/data
