# Two commands for a newcomer: `make demo` (comes with the demo issue) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned here only to pick the build this machine serves from disk; the package itself
# asks for a range (torch>=2.1). Override with `make TORCH_SPEC="torch torchvision" test`.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.detbox-installed
MMDET_WHEEL := .cache/mmdet/mmdet-2.28.2-py3-none-any.whl

.PHONY: install test test-fast lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -c "import torch, torchvision" 2>/dev/null || $(PY) -m pip install $(TORCH_SPEC)
	$(PY) -m pip install -e '.[dev]'
	$(MAKE) $(MMDET_WHEEL)
	touch $(STAMP)

# MMDetection 2.28.2's own configs (inside its wheel) are test data for config parity.
$(MMDET_WHEEL):
	$(PY) -m pip download --no-deps mmdet==2.28.2 -d .cache/mmdet

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check detbox tools tests bench

clean:
	rm -rf $(VENV) build *.egg-info
