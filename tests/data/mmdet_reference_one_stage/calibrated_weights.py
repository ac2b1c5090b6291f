"""Deterministic "random but calibrated" weights for the one-stage MMDetection reference models.

The rules of ``../mmdet_reference/calibrated_weights.py`` (one ``np.random.RandomState(seed)``
over the keys in sorted order; BatchNorm groups, ``N(0, (gain / sqrt(fan_in))^2)`` weights,
``N(0, std^2)`` 1-dim tensors), with this folder's ``ROLES`` and three additions:

* 0-dim tensors (the per-level ``Scale`` of FCOS / ATSS heads) are not drawn: they take the
  value of the first matching ``SCALARS`` entry (after the draws, so they do not move the
  random stream);
* the first matching ``SHIFTS`` entry is added to a drawn tensor: GroupNorm weights become
  ``1 + N(0, 0.1^2)``, and the classifier / regressor biases get the offsets tuned once with
  ``make_reference.py --calibrate`` (README.md) so that each image gives a few tens of
  detections above score_thr 0.05 and boxes of tens of pixels;
* the keys are those of ``keys_<model>.json`` (MMDetection's state_dict).

Needs only NumPy and PyTorch, so MMDetection's side and detbox's side build the identical
state_dict::

    sd = state_dict_from_keys_json("tests/data/mmdet_reference_one_stage/keys_retinanet.json")
    model.load_state_dict(sd, strict=True)
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import OrderedDict
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
DEFAULT_SEED = 20240602

# (regex searched in the key, gain for weights, std for 1-dim tensors); first match wins.
ROLES: tuple[tuple[str, float, float], ...] = (
    (r"^backbone\.", 1.0, 0.01),
    (r"^neck\.(0\.)?(lateral|fpn)_convs\.", 0.5, 0.01),
    (r"\.spatial_conv_offset\.", 0.3, 0.3),
    (r"\.(gn|norm)\.weight$", 1.0, 0.1),
    (r"\.(gn|norm)\.bias$", 1.0, 0.1),
    (r"^neck\.", 1.0, 0.01),
    (r"_convs\.\d+\.conv\.", 1.4142135623730951, 0.01),
    (r"\.(retina|atss|conv)_reg\.", 0.3, 0.01),
    (r"\.(atss|conv)_centerness\.", 1.0, 0.01),
    (r"\.(retina|atss|conv)_cls\.", 3.0, 0.01),
    (r"", 1.0, 0.01),
)
# Added to the drawn tensor (first match): GN weights around 1; FCOS distance biases so that
# boxes are tens of pixels (exp(2.5) = 12 px per side; with norm_on_bbox 2 strides).
SHIFTS: tuple[tuple[str, float], ...] = (
    (r"\.(gn|norm)\.weight$", 1.0),
    (r"^bbox_head\.conv_reg\.bias$", 2.5),
)
# Values of 0-dim tensors (first match).
SCALARS: tuple[tuple[str, float], ...] = (
    (r"\.scales\.(\d+)\.scale$", 1.0),
)
# Per model (the stem of keys_*.json's "config"), shifts tried before SHIFTS: the classifier
# bias that puts a quantile of all class logits over the 3 images at logit(0.05)
# (make_reference.py --calibrate: quantile 0.998 for RetinaNet's 27 outputs per location, 0.99
# for the others), so that each image gives a few tens of detections.
MODEL_SHIFTS: dict[str, tuple[tuple[str, float], ...]] = {
    "retinanet_r18_fpn_tiny": ((r"^bbox_head\.retina_cls\.bias$", -11.08),),
    "fcos_r18_fpn_gn-head_tiny": ((r"^bbox_head\.conv_cls\.bias$", -8.72),),
    "fcos_center-normbbox-centeronreg-giou_r18_fpn_gn-head_tiny": (
        (r"^bbox_head\.conv_cls\.bias$", -7.73),
        (r"^bbox_head\.conv_reg\.bias$", 2.0),
    ),
    "atss_r18_fpn_tiny": ((r"^bbox_head\.atss_cls\.bias$", -7.21),),
    "atss_r18_fpn_dyhead_tiny": ((r"^bbox_head\.atss_cls\.bias$", -4.59),),
}


def _base_module():
    spec = importlib.util.spec_from_file_location(
        "mmdet_reference_calibrated_weights_base",
        HERE.parent / "mmdet_reference" / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _first(table: Sequence[tuple], key: str):
    for pattern, *values in table:
        if re.search(pattern, key):
            return values[0] if len(values) == 1 else values
    return None


def generate_arrays(shapes: Mapping[str, Sequence[int]], seed: int = DEFAULT_SEED,
                    model: str | None = None) -> OrderedDict[str, np.ndarray]:
    """Every tensor as a float64 NumPy array (int64 for num_batches_tracked), in sorted order."""
    base = _base_module()  # a private copy: its ROLES and shifts are set here only
    base.ROLES = ROLES
    base.CLS_BIAS_SHIFT = {}
    base.BG_BIAS = 0.0
    drawn = base.generate_arrays({k: s for k, s in shapes.items()
                                  if len(s) > 0 or k.endswith("num_batches_tracked")}, seed)
    shifts = MODEL_SHIFTS.get(model, ()) + SHIFTS
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    for key in sorted(shapes):
        if len(shapes[key]) == 0 and key not in drawn:
            value = _first(SCALARS, key)
            if value is None:
                raise ValueError(f"no SCALARS entry for the 0-dim key {key!r}")
            out[key] = np.array(value, dtype=np.float64)
            continue
        arr = drawn[key]
        shift = _first(shifts, key)
        if shift is not None and not key.endswith("num_batches_tracked"):
            arr = arr + shift
        out[key] = arr
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
