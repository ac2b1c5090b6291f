"""Calibrated weights of the GFL / TOOD / VFNet reference models.

``../mmdet_reference_one_stage/calibrated_weights.py``'s rules (one ``RandomState`` stream over
the sorted keys, roles, shifts, 0-dim scalars), loaded as a private copy and extended with the
roles of these heads (``ROLES`` first, then the one-stage ones), their shifts and scalars, and
two fixed tensors drawn but then replaced (so the random stream does not move):

* ``bbox_head.integral.project`` is GFL's ``0, 1, ..., reg_max`` (a buffer, not a weight);
* ``bbox_head.gfl_reg.bias`` gets ``-BIN_SLOPE * bin`` added per distribution bin, so the
  expected distances are a few strides rather than ``reg_max / 2``.

Needs only NumPy and PyTorch (both sides build the identical state_dict)::

    sd = state_dict_from_keys_json("tests/data/mmdet_reference_gfl_tood_vfnet/keys_gfl.json")
"""

from __future__ import annotations

import importlib.util
import json
from collections import OrderedDict
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch

HERE = Path(__file__).resolve().parent

# (regex searched in the key, gain for weights, std for 1-dim tensors); before the one-stage ones
ROLES: tuple[tuple[str, float, float], ...] = (
    (r"\.(gfl|tood|vfnet)_cls\.", 3.0, 0.01),
    (r"\.gfl_reg\.", 3.0, 0.3),
    (r"\.tood_reg\.", 0.3, 0.01),
    (r"\.vfnet_reg(_refine)?\.", 0.3, 0.01),
    (r"\.vfnet_(reg_refine|cls)_dconv\.", 1.4142135623730951, 0.01),
    (r"\.reg_offset_module\.", 0.5, 0.3),
    (r"\.cls_prob_module\.", 1.0, 0.01),
)
SHIFTS: tuple[tuple[str, float], ...] = (
    (r"^bbox_head\.tood_reg\.bias$", 1.0),  # anchor-free TOOD: exp(1) = 2.7 strides per side
    (r"^bbox_head\.vfnet_reg\.bias$", -1.4),  # exp(-1.4) * reg_denom: 16 px per side on P3
)
SCALARS: tuple[tuple[str, float], ...] = (
    (r"\.scales_refine\.(\d+)\.scale$", 1.0),
)
# Per model (config stem): classifier (and TOOD's probability map) bias shifts chosen with
# make_reference.py --calibrate so that each image gives a few tens of detections.
MODEL_SHIFTS: dict[str, tuple[tuple[str, float], ...]] = {
    "gfl_r18_fpn_tiny": ((r"^bbox_head\.gfl_cls\.bias$", -8.0),),
    "tood_r18_fpn_tiny": ((r"^bbox_head\.tood_cls\.bias$", -7.5),
                          (r"^bbox_head\.cls_prob_module\.2\.bias$", -3.0)),
    "tood_r18_fpn_anchor_based_dcn_tiny": ((r"^bbox_head\.tood_cls\.bias$", -6.0),
                                           (r"^bbox_head\.cls_prob_module\.2\.bias$", -2.5)),
    "vfnet_r18_fpn_tiny": ((r"^bbox_head\.vfnet_cls\.bias$", -7.0),),
}
BIN_SLOPE = 0.4
DEFAULT_SEED = 20240602


def _one_stage():
    spec = importlib.util.spec_from_file_location(
        "mmdet_reference_gfl_tood_vfnet_one_stage_weights",
        HERE.parent / "mmdet_reference_one_stage" / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ROLES = ROLES + module.ROLES
    module.SHIFTS = SHIFTS + module.SHIFTS
    module.SCALARS = SCALARS + module.SCALARS
    module.MODEL_SHIFTS = dict(MODEL_SHIFTS)
    return module


def _first(table, key):
    return _one_stage()._first(table, key)


def generate_arrays(shapes: Mapping[str, Sequence[int]], seed: int = DEFAULT_SEED,
                    model: str | None = None) -> OrderedDict[str, np.ndarray]:
    """Every tensor as a NumPy array, in sorted key order (see the module docstring)."""
    out = _one_stage().generate_arrays(shapes, seed, model)
    for key in out:
        if key.endswith(".integral.project"):
            out[key] = np.arange(out[key].shape[0], dtype=np.float64)
        elif key == "bbox_head.gfl_reg.bias":
            bins = out["bbox_head.integral.project"].shape[0]
            out[key] = out[key] - BIN_SLOPE * (np.arange(out[key].shape[0]) % bins)
    return out


def generate_state_dict(shapes: Mapping[str, Sequence[int]], seed: int = DEFAULT_SEED,
                        dtypes: Mapping[str, str] | None = None, model: str | None = None
                        ) -> OrderedDict[str, torch.Tensor]:
    """The calibrated state_dict as torch tensors (float32 unless ``dtypes`` says otherwise)."""
    kinds = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, arr in generate_arrays(shapes, seed, model).items():
        if dtypes is not None and key in dtypes:
            dtype = kinds[dtypes[key]]
        else:
            dtype = torch.int64 if arr.dtype == np.int64 else torch.float32
        out[key] = torch.from_numpy(np.array(arr, order="C")).to(dtype)
    return out


def state_dict_from_keys_json(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """Rebuild a reference model's state_dict from its ``keys_*.json``."""
    spec = json.loads(Path(path).read_text())
    shapes = {name: shape for name, shape, _ in spec["keys"]}
    dtypes = {name: dtype for name, _, dtype in spec["keys"]}
    return generate_state_dict(shapes, int(spec["seed"]), dtypes, Path(spec["config"]).stem)
