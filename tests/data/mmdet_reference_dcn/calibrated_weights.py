"""Calibrated weights of the DCN / Res2Net reference models.

``../mmdet_reference_gfl_tood_vfnet/calibrated_weights.py`` (itself
``../mmdet_reference_one_stage/calibrated_weights.py``'s rules: one ``RandomState`` stream over
the sorted keys; BatchNorm groups; ``N(0, (gain / sqrt(fan_in))^2)`` weights; the GFL head's
roles, shifts and fixed tensors), loaded as a private copy with one role put first: the
deformable convs' ``conv_offset`` (gain 0.5, bias std 0.5), so offsets are a fraction of a
pixel to about two pixels, with fractional parts (bilinear sampling everywhere, a few samples
outside the map) and DCNv2 masks spread around 0.5; and the GFL classifier shift of the tiny
detector. The backbone cases' keys (no ``backbone.`` prefix) take the catch-all role (gain 1,
std 0.01) otherwise.

Needs only NumPy and PyTorch (both sides build the identical state_dict)::

    sd = state_dict_from_keys_json("tests/data/mmdet_reference_dcn/keys_resnet50_dcn_tiny.json")
"""

from __future__ import annotations

import importlib.util
import json
from collections import OrderedDict
from pathlib import Path
from typing import Mapping, Sequence

import torch

HERE = Path(__file__).resolve().parent
DEFAULT_SEED = 20240603
ROLES: tuple[tuple[str, float, float], ...] = (
    (r"\.conv_offset\.", 0.5, 0.5),
)
# Per model (config stem): the classifier bias shift chosen with make_reference.py
# --calibrate so that each image gives a few tens of detections.
MODEL_SHIFTS: dict[str, tuple[tuple[str, float], ...]] = {
    "gfl_r50_dcnv2_fpn_tiny": ((r"^bbox_head\.gfl_cls\.bias$", -12.0),),
}


def _gfl():
    spec = importlib.util.spec_from_file_location(
        "mmdet_reference_dcn_gfl_weights",
        HERE.parent / "mmdet_reference_gfl_tood_vfnet" / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ROLES = ROLES + module.ROLES
    module.MODEL_SHIFTS = dict(MODEL_SHIFTS)
    return module


def generate_state_dict(shapes: Mapping[str, Sequence[int]], seed: int = DEFAULT_SEED,
                        dtypes: Mapping[str, str] | None = None, model: str | None = None
                        ) -> OrderedDict[str, torch.Tensor]:
    """The calibrated state_dict as torch tensors (float32 unless ``dtypes`` says otherwise)."""
    return _gfl().generate_state_dict(shapes, seed, dtypes, model)


def state_dict_from_keys_json(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """Rebuild a reference model's state_dict from its ``keys_*.json``."""
    spec = json.loads(Path(path).read_text())
    shapes = {name: shape for name, shape, _ in spec["keys"]}
    dtypes = {name: dtype for name, _, dtype in spec["keys"]}
    return generate_state_dict(shapes, int(spec["seed"]), dtypes, Path(spec["config"]).stem)
