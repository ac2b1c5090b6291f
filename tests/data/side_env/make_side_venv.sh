#!/usr/bin/env bash
# Builds the reference environment (real MMDetection 2.28.2 + mmcv-full 1.7.2 with its compiled
# CPU ops) that records the goldens under tests/data/mmdet_reference*/ and the state_dict
# manifests under tests/data/mmdet_layouts/. Never detbox's own venv: run the make_*.py scripts
# with $VENV/bin/python. About 20 minutes on 2 cores (the mmcv-full C++ build is most of it).
#
#   bash tests/data/side_env/make_side_venv.sh [/tmp/mmfull]
set -euo pipefail
VENV=${1:-/tmp/mmfull}
BUILD=${BUILD:-/tmp/mmfull_build}
PIP="$VENV/bin/pip"
test -x "$VENV/bin/python" || python3 -m venv "$VENV"
$PIP install 'torch==2.0.1' 'torchvision==0.15.2' 'numpy<2'
$PIP install 'setuptools<70' wheel ninja addict 'yapf==0.32.0' pyyaml Pillow \
    'opencv-python-headless<4.11' 'numpy<2'
if ! "$VENV/bin/python" -c "import mmcv.ops" 2>/dev/null; then
    mkdir -p "$BUILD/wheels"
    test -f "$BUILD/mmcv-full-1.7.2.tar.gz" || \
        $PIP download 'mmcv-full==1.7.2' --no-deps --no-binary :all: -d "$BUILD"
    (cd "$BUILD" && tar xzf mmcv-full-1.7.2.tar.gz)
    whl=$(ls "$BUILD"/wheels/mmcv_full-1.7.2-*.whl 2>/dev/null | head -n 1 || true)
    if [ -z "$whl" ]; then
        (cd "$BUILD" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-1} nice -n 10 \
            "$PIP" wheel --no-build-isolation --no-deps ./mmcv-full-1.7.2 -w "$BUILD/wheels")
        whl=$(ls "$BUILD"/wheels/mmcv_full-1.7.2-*.whl | head -n 1)
    fi
    $PIP install --no-deps "$whl"
fi
$PIP install --no-deps 'mmdet==2.28.2'
$PIP install terminaltables 'scipy<1.14' 'matplotlib<3.9' six pycocotools 'numpy<2' \
    'torch==2.0.1' 'torchvision==0.15.2'
# ConvNeXt configs import mmcls.models; PAA's reference uses scikit-learn's GaussianMixture.
$PIP install --no-deps 'mmcls==0.25.0'
$PIP install 'scikit-learn<1.6' 'numpy<2' 'torch==2.0.1'
"$VENV/bin/python" -c "import mmdet, mmcv, mmcv.ops; print('mmdet', mmdet.__version__, 'mmcv', mmcv.__version__)"
