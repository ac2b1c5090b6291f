"""Calibrated random weights of the CenterNet reference model.

``../mmdet_reference_one_stage/calibrated_weights.py`` (its rules and its shift handling),
loaded as a private copy with this family's ``ROLES``, ``SHIFTS`` and ``MODEL_SHIFTS``: the
backbone and neck as there, the size branch's last bias shifted so that boxes are several
feature pixels wide (the heatmap needs no shift: decoding keeps the top 100 peaks whatever
their scores).

Both MMDetection's side (``make_reference.py``) and detbox's side
(``tests/models/parity/test_mmdet_reference_centernet.py``) call
``state_dict_from_keys_json(keys_<model>.json)``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent

ROLES = (
    (r"^backbone\.", 1.0, 0.01),
    (r"^neck\.", 1.0, 0.01),
    (r"\.heatmap_head\.2\.", 20.0, 0.01),
    (r"\.(wh|offset)_head\.2\.", 10.0, 0.01),
    (r"", 1.0, 0.01),
)
SHIFTS = ()
MODEL_SHIFTS = {
    "centernet_r18_tiny_ref": ((r"^bbox_head\.wh_head\.2\.bias$", 6.0),
                               (r"^bbox_head\.heatmap_head\.2\.bias$", -2.0)),
}


def _one_stage():
    spec = importlib.util.spec_from_file_location(
        "calibrated_weights_one_stage_for_centernet",
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
