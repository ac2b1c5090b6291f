#!/usr/bin/env bash
# While the side venv's mmcv-full C++ build is unfinished, run MMDetection 2.28.2 and mmcv
# 1.7.2's Python code on the side venv's torch 2.0.1, with mmcv_ext_shim.py standing in for
# the compiled extension (only RoIAlign and NMS, via torchvision; DETR and Deformable DETR use
# no compiled op on CPU). Nothing is installed into the side venv itself.
#
#   bash tests/data/mmdet_reference_detr/make_shim_env.sh [/tmp/detr_shim]
#   PYTHONPATH=/tmp/detr_shim:/tmp/mmdet_src:/tmp/detr_shim/deps /tmp/mmfull/bin/python \
#       tests/data/mmdet_reference_detr/make_reference.py --msda
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-/tmp/detr_shim}
MMCV_SRC=${MMCV_SRC:-/tmp/mmfull_build/mmcv-full-1.7.2/mmcv}   # the unpacked sdist
mkdir -p "$OUT"
rm -rf "$OUT/mmcv" && cp -r "$MMCV_SRC" "$OUT/mmcv" && rm -rf "$OUT/mmcv/ops/csrc"
cp "$HERE/mmcv_ext_shim.py" "$OUT/mmcv/_ext.py"
/tmp/mmfull/bin/pip install -q --target "$OUT/deps" 'scipy<1.14' terminaltables pycocotools \
    six 'matplotlib<3.9' 'numpy<2'
