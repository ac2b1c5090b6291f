"""Calibrated random weights for the Guided Anchoring reference models (GA-RetinaNet, GA Faster
R-CNN).

The rules of ``../mmdet_reference_one_stage/calibrated_weights.py`` (which builds on
``../mmdet_reference/calibrated_weights.py``), loaded as a private copy whose ``ROLES`` get
this folder's roles in front and whose ``MODEL_SHIFTS`` are this folder's; everything else
(seed, draw order, BatchNorm groups) is unchanged. The roles give anchor shapes ``(dw, dh)`` of
about 0.5, deformable offsets of about a cell (``conv_offset`` reads the shape), and the
location biases are shifted so that ``loc_filter_thr=0.01`` drops a good part of the
locations at test time (the masked classifier and regressor are exercised). Needs only NumPy
and PyTorch::

    sd = state_dict_from_keys_json("tests/data/mmdet_reference_ga/keys_ga_retinanet.json")
    model.load_state_dict(sd, strict=True)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent
SQRT2 = 1.4142135623730951

# (regex searched in the key, gain for weights, std for 1-dim tensors); before the one-stage
# roles, first match wins.
ROLES: tuple[tuple[str, float, float], ...] = (
    (r"\.conv_shape\.", 0.5, 0.01),
    (r"\.conv_offset\.", 2.0, 0.01),
    (r"\.conv_adaption\.", SQRT2, 0.01),
    (r"\.conv_loc\.", 1.0, 0.01),
    (r"^rpn_head\.rpn_conv\.", SQRT2, 0.01),
    (r"^rpn_head\.conv_cls\.", 1.5, 0.01),
    (r"\.shared_fcs\.", SQRT2, 0.01),
    (r"\.fc_cls\.", 3.0, 0.01),
    (r"\.fc_reg\.", 0.3, 0.01),
)
# Per model (the stem of keys_*.json's "config"): additive shifts, tuned once with
# make_reference.py --calibrate (README.md).
MODEL_SHIFTS: dict[str, tuple[tuple[str, object], ...]] = {
    "ga_retinanet_r18_fpn_tiny": ((r"^bbox_head\.retina_cls\.bias$",
                                   (-5.54, -8.97, -13.26)),
                                  (r"^bbox_head\.conv_loc\.bias$", -4.49)),
    "ga_faster_r18_fpn_tiny": ((r"^roi_head\.bbox_head\.fc_cls\.bias$",
                                (-2.10, 2.12, -0.93, 4.38)),
                               (r"^rpn_head\.conv_loc\.bias$", -3.89)),
}


def _one_stage():
    spec = importlib.util.spec_from_file_location(
        "calibrated_weights_one_stage_for_ga",
        HERE.parent / "mmdet_reference_one_stage" / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ROLES = ROLES + module.ROLES
    module.MODEL_SHIFTS = MODEL_SHIFTS
    return module


_BASE = _one_stage()
DEFAULT_SEED = _BASE.DEFAULT_SEED
generate_arrays = _BASE.generate_arrays
generate_state_dict = _BASE.generate_state_dict
state_dict_from_keys_json = _BASE.state_dict_from_keys_json
SHIFTS = _BASE.SHIFTS
