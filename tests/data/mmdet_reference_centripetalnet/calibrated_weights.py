"""Calibrated random weights of the CentripetalNet reference model.

``../mmdet_reference_one_stage/calibrated_weights.py`` (its rules), loaded as a private copy
with this family's ``ROLES`` and ``MODEL_SHIFTS`` (CornerNet's roles, ``../
mmdet_reference_cornernet/calibrated_weights.py``, plus the centripetal branches): heatmap
biases shifted by -2 so that corner probabilities spread over (0, 1); the centripetal shift
predictor small with its bias at ``CENTRIPETAL_BIAS`` (``exp`` of it, ~11 feature pixels from
corner to centre) so that a share of the corner pairs points into their central regions; the
deform offsets of the feature adaption around a pixel, so that the bilinear sampling is
exercised. Both sides (``make_reference.py`` and
``tests/models/parity/test_mmdet_reference_centripetalnet.py``) call
``state_dict_from_keys_json(keys_centripetalnet.json)``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent
CENTRIPETAL_BIAS = 2.4

ROLES = (
    (r"^backbone\.", 1.0, 0.01),
    (r"_centripetal_shift\.\d+\.1\.conv\.", 0.05, 0.01),
    (r"_guiding_shift\.\d+\.1\.conv\.", 0.3, 0.01),
    (r"_dcn_offset\.\d+\.conv\.", 1.0, 0.01),
    (r"_off\.\d+\.1\.conv\.", 0.3, 0.01),
    (r"_heat\.\d+\.1\.conv\.", 1.0, 0.01),
    (r"", 1.0, 0.01),
)
SHIFTS = ()
MODEL_SHIFTS = {
    "centripetalnet_tiny_ref": (
        (r"_heat\.\d+\.1\.conv\.bias$", -2.0),
        (r"_centripetal_shift\.\d+\.1\.conv\.bias$", CENTRIPETAL_BIAS),
    ),
}


def _one_stage():
    spec = importlib.util.spec_from_file_location(
        "calibrated_weights_one_stage_for_centripetalnet",
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
