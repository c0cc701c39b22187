# ponder: two commands for a new user, `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

.PHONY: setup browser demo test test-fast lint bench clean

setup: $(STAMP)

# torch is pinned and installed first: the pin takes the CPU build on a machine without a GPU
# and the CUDA build where one exists; an unpinned torch would pull several GB of CUDA wheels.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (ponder needs Python 3.11+; set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[dev,bench]"
	@touch $(STAMP)

# The HTML replay test drives Debian's chromium through Debian's chromedriver; nothing downloads
# a browser build. Installed only when missing (CI is a clean Debian machine running as root).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	fi

demo: setup
	$(VENV)/bin/ponder demo

test: setup browser
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	$(PY) benchmarks/games.py
	$(PY) benchmarks/search.py
	$(PY) benchmarks/solver.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
