"""Calibrated random weights of the YOLOX reference model.

``../mmdet_reference_one_stage/calibrated_weights.py`` (its rules and its 0-dim / shift
handling), loaded as a private copy with this family's ``ROLES``, ``SHIFTS`` and
``MODEL_SHIFTS``:

* YOLOX has no ``Normalize``: pixels reach the stem in 0..255, so the stem conv's gain is
  ``1 / 128``;
* BatchNorm groups as in the base rules (weights ``U(0.5, 1.5)``, running stats around 0 / 1);
* the class and objectness biases are shifted (tuned once, README.md) so that each image
  gives a few tens of detections above ``score_thr``; the ``log w, log h`` biases so that
  boxes are a few strides wide.

Both MMDetection's side (``make_reference.py``) and detbox's side
(``tests/models/parity/test_mmdet_reference_yolox.py``) call
``state_dict_from_keys_json(keys_<model>.json)``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent

ROLES = (
    (r"^backbone\.stem\.conv\.conv\.", 1.0 / 128, 0.01),
    (r"^backbone\.", 1.3, 0.01),
    (r"^neck\.", 1.25, 0.01),
    (r"_convs\.\d+\.\d+\.conv\.", 1.0, 0.01),
    (r"\.multi_level_conv_reg\.", 0.15, 0.01),
    (r"\.multi_level_conv_(cls|obj)\.", 1.0, 0.01),
    (r"", 1.0, 0.01),
)
SHIFTS = ()
MODEL_SHIFTS = {
    "yolox_tiny_ref": (
        (r"^bbox_head\.multi_level_conv_obj\.\d+\.bias$", -7),
        (r"^bbox_head\.multi_level_conv_reg\.\d+\.bias$", 1.0),
    ),
}


def _one_stage():
    spec = importlib.util.spec_from_file_location(
        "calibrated_weights_one_stage_for_yolox",
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
