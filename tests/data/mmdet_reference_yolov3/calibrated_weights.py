"""Calibrated random weights of the YOLOv3 reference model.

``../mmdet_reference_one_stage/calibrated_weights.py`` (its rules and its shift handling),
loaded as a private copy with this family's ``ROLES``, ``SHIFTS`` and ``MODEL_SHIFTS``:

* pixels reach the stem in 0..1 (``Normalize`` by 255);
* BatchNorm groups as in the base rules (weights ``U(0.5, 1.5)``, running stats around 0 / 1);
* the prediction convs' biases get a per-channel shift (one value per ``(tx, ty, tw, th,
  objectness, class...)`` attribute of each anchor, tuned once, README.md) so that each image
  gives a few tens of detections above ``score_thr``.

Both MMDetection's side (``make_reference.py``) and detbox's side
(``tests/models/parity/test_mmdet_reference_yolov3.py``) call
``state_dict_from_keys_json(keys_<model>.json)``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

ROLES = (
    (r"^backbone\.", 0.8, 0.01),
    (r"^neck\.", 0.9, 0.01),
    (r"\.convs_bridge\.", 1.0, 0.01),
    (r"\.convs_pred\.", 5.0, 0.01),
    (r"", 1.0, 0.01),
)
SHIFTS = ()
# per anchor: tx, ty, tw, th, objectness, 3 classes
_PRED_BIAS = np.tile(np.array([0.0, 0.0, 0.0, 0.0, 0.0, -5.3, -5.2, -5.2]), 3)
MODEL_SHIFTS = {
    "yolov3_d53_tiny_ref": ((r"^bbox_head\.convs_pred\.\d+\.bias$", _PRED_BIAS),),
}


def _one_stage():
    spec = importlib.util.spec_from_file_location(
        "calibrated_weights_one_stage_for_yolov3",
        HERE.parent / "mmdet_reference_one_stage" / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ROLES, module.SHIFTS, module.MODEL_SHIFTS = ROLES, SHIFTS, MODEL_SHIFTS
    return module


_BASE = _one_stage()
DEFAULT_SEED = _BASE.DEFAULT_SEED
generate_arrays = _BASE.generate_arrays
generate_state_dict = _BASE.generate_state_dict
state_dict_from_keys_json = _BASE.state_dict_from_keys_json
