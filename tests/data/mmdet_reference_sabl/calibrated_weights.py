"""Calibrated random weights for the SABL reference models (RetinaNet and Faster R-CNN).

The rules of ``../mmdet_reference_one_stage/calibrated_weights.py`` (which builds on
``../mmdet_reference/calibrated_weights.py``), loaded as a private copy whose ``ROLES`` get
this folder's roles in front and whose ``MODEL_SHIFTS`` are this folder's; everything else
(seed, draw order, BatchNorm groups) is unchanged. Needs only NumPy and PyTorch::

    sd = state_dict_from_keys_json("tests/data/mmdet_reference_sabl/keys_sabl_retinanet.json")
    model.load_state_dict(sd, strict=True)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent
SQRT2 = 1.4142135623730951

# (regex searched in the key, gain for weights, std for 1-dim tensors); before the one-stage
# roles, first match wins. RPN roles as in ../mmdet_reference/calibrated_weights.py.
ROLES: tuple[tuple[str, float, float], ...] = (
    (r"^rpn_head\.rpn_conv\.", SQRT2, 0.01),
    (r"^rpn_head\.rpn_cls\.", 1.5, 0.01),
    (r"^rpn_head\.rpn_reg\.", 0.3, 0.01),
    (r"\.retina_bbox_cls\.", 1.0, 0.01),  # bucket logits
    (r"\.retina_bbox_reg\.", 0.3, 0.01),  # bucket offsets (in bucket widths)
    (r"\.reg_post_conv_(x|y)s\.\d+\.conv\.", SQRT2, 0.01),
    (r"\.upsample_(x|y)\.", SQRT2, 0.01),
    (r"\.reg_conv_att_(x|y)\.", 1.0, 0.01),
    (r"\.cls_fcs\.", SQRT2, 0.01),
    (r"\.fc_cls\.", 3.0, 0.01),
    (r"\.fc_reg_cls\.", 1.0, 0.01),
    (r"\.fc_reg_offset\.", 0.3, 0.01),
)
# Per model (the stem of keys_*.json's "config"): additive shifts of the classifier biases,
# tuned once (make_reference.py --calibrate, README.md) so that each image gives a few tens of
# detections above score_thr 0.05 (Faster R-CNN: the 3 classes, then the background).
MODEL_SHIFTS: dict[str, tuple[tuple[str, float], ...]] = {
    "sabl_retinanet_r18_fpn_tiny": ((r"^bbox_head\.retina_cls\.bias$", (-4.44, -13.07, -13.68)),),
    "sabl_faster_rcnn_r18_fpn_tiny": (
        (r"^roi_head\.bbox_head\.fc_cls\.bias$", (-1.75, -1.4, 0.79, 6.0)),),
    "sabl_cascade_rcnn_r18_fpn_tiny": (
        (r"^roi_head\.bbox_head\.0\.fc_cls\.bias$", (-1.5, -1.18, 0.58, 4.06)),
        (r"^roi_head\.bbox_head\.1\.fc_cls\.bias$", (-1.81, -2.1, -2.25, 8.24)),
        (r"^roi_head\.bbox_head\.2\.fc_cls\.bias$", (-3.45, 0.04, 3.37, 4.68)),),
}


def _one_stage():
    spec = importlib.util.spec_from_file_location(
        "calibrated_weights_one_stage_for_sabl",
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
_first = _BASE._first
SHIFTS = _BASE.SHIFTS
