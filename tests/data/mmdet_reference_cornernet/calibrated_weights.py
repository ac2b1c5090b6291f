"""Calibrated random weights of the CornerNet reference model.

``../mmdet_reference_one_stage/calibrated_weights.py`` (its rules), loaded as a private copy
with this family's ``ROLES`` and ``MODEL_SHIFTS``: the heatmap biases are shifted so that
corner probabilities spread over (0, 1) instead of sitting near 0.5, and the embedding
predictor is small so that a share of the corner pairs falls within ``distance_threshold``.
Both MMDetection's side (``make_reference.py``) and detbox's side
(``tests/models/parity/test_mmdet_reference_cornernet.py``) call
``state_dict_from_keys_json(keys_<model>.json)``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent

ROLES = (
    (r"^backbone\.", 1.0, 0.01),
    (r"_emb\.\d+\.1\.conv\.", 0.05, 0.01),
    (r"_off\.\d+\.1\.conv\.", 0.3, 0.01),
    (r"_heat\.\d+\.1\.conv\.", 1.0, 0.01),
    (r"", 1.0, 0.01),
)
SHIFTS = ()
MODEL_SHIFTS = {
    "cornernet_tiny_ref": ((r"_heat\.\d+\.1\.conv\.bias$", -2.0),),
}


def _one_stage():
    spec = importlib.util.spec_from_file_location(
        "calibrated_weights_one_stage_for_cornernet",
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
