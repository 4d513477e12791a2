# `make demo` and `make test` work on a fresh clone: each creates .venv if missing.
# Another Python, in a venv of its own: make test PYTHON=python3.13 VENV=/tmp/lstmkit-py313
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo test bench install install-dev clean check-python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# PYTHON named on the command line but VENV made by another one would test that other Python
ifeq ($(origin PYTHON),command line)
WHICH := import sys; print("%d.%d" % sys.version_info[:2])
check-python: $(BIN)/python
	@want=$$($(PYTHON) -c '$(WHICH)'); have=$$($(BIN)/python -c '$(WHICH)'); [ "$$want" = "$$have" ] || \
	  { echo "$(VENV) holds Python $$have, not $(PYTHON)'s $$want — give another venv: VENV=/tmp/lstmkit-py$$want"; exit 2; }
else
check-python:
endif

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt | check-python
	$(PIP) install -q -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: check-python $(VENV)/.installed
	$(BIN)/lstmkit demo

# one worker per core (at most 4), each test file on one worker (its module fixtures built once)
test: check-python $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/window_memory.py
	$(BIN)/python benchmarks/import_time.py

clean:
	rm -rf $(VENV) runs .pytest_cache
