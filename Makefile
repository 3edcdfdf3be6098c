# qkdnet: every target creates/uses .venv and installs what it needs, so on a fresh machine
#   make demo   runs the built-in default scenario
#   make test   installs the test extras and runs the test suite
# The Dockerfile runs `make install` too, so the image is built with exactly these steps.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
QKDNET := $(VENV)/bin/qkdnet
PYTEST_ARGS ?=

.PHONY: install install-test demo test test-slow bench lint format clean image-check

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch is pinned to 2.13.0 (the CPU wheel): install it on its own first so no other
# dependency's looser requirement can pull a newer, CUDA-sized build. TORCH_PIP_ARGS says where
# the wheel comes from (the Dockerfile passes PyTorch's CPU index, or a local wheel folder).
TORCH_PIP_ARGS ?=

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet $(TORCH_PIP_ARGS) torch==2.13.0
	$(PIP) install --quiet -e .
	$(QKDNET) build-module
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# the two-node link first (one QKD link, key bits and QBER per step), then the built-in default
# scenario (SECOQC Vienna, two demands, one Byzantine node, ABFT control plane) to runs/six-node-demo
demo: $(VENV)/.installed
	$(QKDNET) demo
	$(QKDNET) run experiments/configs/six-node.yaml --out runs/six-node-demo --overwrite

test: $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

test-slow: $(VENV)/.installed-test
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Build the container image with Podman and run the demo, a scenario and the quick reproduction
# inside it (minutes; not part of `make test`). See scripts/image-check.sh.
image-check:
	scripts/image-check.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
