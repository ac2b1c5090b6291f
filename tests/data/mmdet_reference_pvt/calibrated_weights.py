"""Calibrated weights of the PVT / ConvNeXt reference models: the one-stage rules, extended.

This is ``../mmdet_reference_one_stage/calibrated_weights.py`` (loaded as a private copy) with
per-model shifts for the models of this folder added to its ``MODEL_SHIFTS``:

* LayerNorm weights the generic ``\\.(gn|norm)\\.weight$`` shift misses (PVT's ``norm1`` /
  ``norm2`` / stage norms ``layers.{i}.2``; ConvNeXt's stem / downsample norms and output
  norms ``norm{i}``) get ``+1`` (weights around 1), as do ConvNeXt's layer scales ``gamma``;
* the RetinaNet classifier bias gets the shift found with ``make_reference.py --calibrate``.

Needs only NumPy and PyTorch (both sides build the identical state_dict).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent

_spec = importlib.util.spec_from_file_location(
    "calibrated_weights_one_stage_for_pvt",
    HERE.parent / "mmdet_reference_one_stage" / "calibrated_weights.py")
_one_stage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_one_stage)

_PVT_NORMS = (
    (r"^backbone\.layers\.\d\.1\.\d+\.norm[12]\.weight$", 1.0),
    (r"^backbone\.layers\.\d\.2\.weight$", 1.0),
)
_CONVNEXT = (
    (r"^backbone\.downsample_layers\.0\.1\.weight$", 1.0),
    (r"^backbone\.downsample_layers\.[1-9]\.0\.weight$", 1.0),
    (r"^backbone\.norm\d\.weight$", 1.0),
    (r"^backbone\.stages\.\d\.\d+\.gamma$", 1.0),
)
MODEL_SHIFTS = {
    "retinanet_pvtv2_fpn_tiny": ((r"^bbox_head\.retina_cls\.bias$", -6.69),) + _PVT_NORMS,
    "pvt_v1_backbone": _PVT_NORMS,
    "convnext_backbone": _CONVNEXT,
}
_one_stage.MODEL_SHIFTS.update(MODEL_SHIFTS)

DEFAULT_SEED = _one_stage.DEFAULT_SEED
SHIFTS = _one_stage.SHIFTS
_first = _one_stage._first
generate_arrays = _one_stage.generate_arrays
generate_state_dict = _one_stage.generate_state_dict
state_dict_from_keys_json = _one_stage.state_dict_from_keys_json
