"""Calibrated random weights for the dense2 reference models (FSAF, YOLOF, PAA, RepPoints).

The rules of ``../mmdet_reference_one_stage/calibrated_weights.py`` (which builds on
``../mmdet_reference/calibrated_weights.py``), loaded as a private copy whose ``ROLES`` get
this folder's roles in front and whose ``MODEL_SHIFTS`` are this folder's; everything else
(seed, draw order, BatchNorm groups, GN weights around 1, 0-dim ``Scale``s) is unchanged.
Needs only NumPy and PyTorch::

    sd = state_dict_from_keys_json("tests/data/mmdet_reference_dense2/keys_fsaf.json")
    model.load_state_dict(sd, strict=True)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (regex searched in the key, gain for weights, std for 1-dim tensors); before the one-stage
# roles, first match wins.
ROLES: tuple[tuple[str, float, float], ...] = (
    (r"^neck\.(lateral|fpn)_conv\.", 1.0, 0.01),  # YOLOF's DilatedEncoder (BN after each)
    (r"_subnet\.\d+\.conv\.", 1.4142135623730951, 0.01),  # YOLOF's towers
    (r"^bbox_head\.cls_score\.", 1.0, 0.01),
    (r"^bbox_head\.bbox_pred\.", 0.3, 0.01),
    (r"^bbox_head\.object_pred\.", 0.5, 0.01),
    (r"\.reppoints_(cls|pts_refine)_conv\.", 1.4142135623730951, 0.01),
    (r"\.reppoints_pts_init_conv\.", 1.4142135623730951, 0.01),
    (r"\.reppoints_pts_init_out\.", 3.0, 0.01),
    (r"\.reppoints_pts_refine_out\.", 1.0, 0.01),
    (r"\.reppoints_cls_out\.", 3.0, 0.01),
)
# Per model (the stem of keys_*.json's "config"): additive shifts, tuned once so that each
# image gives a few tens of detections (classifier biases) and boxes of tens of pixels.
MODEL_SHIFTS: dict[str, tuple[tuple[str, float], ...]] = {
    "fsaf_r18_fpn_tiny": ((r"^bbox_head\.retina_cls\.bias$", (-13.48, -7.59, -4.0)),
                          (r"^bbox_head\.retina_reg\.bias$", 0.5)),
    "yolof_r18_c5_tiny": ((r"^bbox_head\.cls_score\.bias$", (-12.18, -6.15, -7.09) * 5),),
    "retinanet_ghm_r18_fpn_tiny": ((r"^bbox_head\.retina_cls\.bias$", -11.08),),
    "retinanet_free_anchor_r18_fpn_tiny": ((r"^bbox_head\.retina_cls\.bias$", -11.08),),
    "autoassign_r18_fpn_tiny": ((r"^bbox_head\.conv_cls\.bias$", (-5.5, -7.3, -4.2)),),
    "paa_r18_fpn_tiny": ((r"^bbox_head\.atss_cls\.bias$", -7.21),),
    "reppoints_moment_r18_fpn_gn-neck+head_tiny": (
        (r"^bbox_head\.reppoints_cls_out\.bias$", -7.61),),
    "bbox_r18_grid_fpn_gn-neck+head_tiny": ((r"^bbox_head\.reppoints_cls_out\.bias$", -8.44),),
    # FoveaBox: log distances in base edges, 0 = one base edge per side (not FCOS's 2.5)
    "fovea_r18_fpn_tiny": ((r"^bbox_head\.conv_cls\.bias$", -6.04),
                           (r"^bbox_head\.conv_reg\.bias$", 0.0)),
    "fovea_align_r18_fpn_gn-head_tiny": ((r"^bbox_head\.conv_cls\.bias$", -8.16),
                                         (r"^bbox_head\.conv_reg\.bias$", 0.0)),
    "nas_fcos_nashead_r18_fpn_gn-head_tiny": ((r"^bbox_head\.conv_cls\.bias$", -6.84),),
    "ddod_r18_fpn_tiny": ((r"^bbox_head\.atss_cls\.bias$", -6.38),),
}


def _loss_buffers(arrays):
    """GHM losses keep their bin ``edges`` (and ``acc_sum`` counts) as buffers: give them the
    values the losses set, not random draws (GHMC: ``i / bins``, the last edge plus 1e-6;
    GHMR: the last edge 1e3; counts 0)."""
    import numpy as np
    import torch

    for key in list(arrays):
        if key.endswith(".edges"):
            bins = arrays[key].shape[0] - 1
            edges = torch.arange(bins + 1).float() / bins
            if key.endswith("loss_bbox.edges"):
                edges[-1] = 1e3
            else:
                edges[-1] += 1e-6
            arrays[key] = edges.double().numpy()
        elif key.endswith(".acc_sum"):
            arrays[key] = np.zeros_like(arrays[key])
    return arrays


def _one_stage():
    spec = importlib.util.spec_from_file_location(
        "calibrated_weights_one_stage_for_dense2",
        HERE.parent / "mmdet_reference_one_stage" / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ROLES = ROLES + module.ROLES
    module.MODEL_SHIFTS = MODEL_SHIFTS
    draw = module.generate_arrays
    module.generate_arrays = lambda *args, **kwargs: _loss_buffers(draw(*args, **kwargs))
    return module


_BASE = _one_stage()
DEFAULT_SEED = _BASE.DEFAULT_SEED
generate_arrays = _BASE.generate_arrays
generate_state_dict = _BASE.generate_state_dict
state_dict_from_keys_json = _BASE.state_dict_from_keys_json
_first = _BASE._first
SHIFTS = _BASE.SHIFTS
