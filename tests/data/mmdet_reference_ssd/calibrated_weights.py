"""Calibrated random weights of the SSD reference model.

``../mmdet_reference_one_stage/calibrated_weights.py`` (its rules), loaded as a private copy
with this family's ``ROLES``, and one addition: the background logit of every anchor (the last
of each group of ``C + 1`` class outputs) gets ``BG_SHIFT`` added to its bias, so that a few
tens of anchors per image pass ``score_thr`` (tuned once, README.md):

* the first conv sees ``Normalize`` with std 1 (pixels minus the mean, about +-128): gain
  ``1 / 128``;
* the other convs of the ReLU network: gain ``sqrt(2)``; the L2 norm's weights at 20 (its
  initial scale), the predictors small gains.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
NUM_CLASSES = 3
BG_SHIFT = 6.4

ROLES = (
    (r"^backbone\.features\.0\.", 1.0 / 128, 0.01),
    (r"^backbone\.", 1.4142135623730951, 0.01),
    (r"^neck\.l2_norm\.", 1.0, 1.0),
    (r"^neck\.", 1.4142135623730951, 0.01),
    (r"^bbox_head\.cls_convs\.", 1.0, 0.01),
    (r"^bbox_head\.reg_convs\.", 0.05, 0.01),
    (r"", 1.0, 0.01),
)
SHIFTS = ((r"^neck\.l2_norm\.weight$", 20.0),)
MODEL_SHIFTS: dict = {}
_CLS_BIAS = re.compile(r"^bbox_head\.cls_convs\.\d+\.\d+\.bias$")


def _one_stage():
    spec = importlib.util.spec_from_file_location(
        "calibrated_weights_one_stage_for_ssd",
        HERE.parent / "mmdet_reference_one_stage" / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ROLES, module.SHIFTS, module.MODEL_SHIFTS = ROLES, SHIFTS, MODEL_SHIFTS
    return module


_BASE = _one_stage()
_ONE_STAGE_ARRAYS = _BASE.generate_arrays
DEFAULT_SEED = _BASE.DEFAULT_SEED


def generate_arrays(shapes, seed=DEFAULT_SEED, model=None):
    """The one-stage rules, then ``BG_SHIFT`` on the background logits' biases."""
    out = _ONE_STAGE_ARRAYS(shapes, seed, model)
    for key, arr in out.items():
        if _CLS_BIAS.match(key):
            arr[NUM_CLASSES::NUM_CLASSES + 1] += BG_SHIFT
    return out


_BASE.generate_arrays = generate_arrays  # used by the base's generate_state_dict
generate_state_dict = _BASE.generate_state_dict
state_dict_from_keys_json = _BASE.state_dict_from_keys_json
