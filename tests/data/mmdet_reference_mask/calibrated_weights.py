"""Deterministic "random but calibrated" weights for the instance segmentation reference models.

The rules of ``../mmdet_reference/calibrated_weights.py`` (one ``np.random.RandomState(seed)``
over the sorted keys, BatchNorm groups, ``N(0, (gain / sqrt(fan_in))^2)`` weights, ``N(0,
std^2)`` biases, ``BG_BIAS`` on the background logit) with its ``ROLES`` plus the mask
heads' roles below, and per-model RoI classifier bias shifts (``MODEL_CLS_BIAS_SHIFT``,
printed by ``make_reference.py --calibrate``) instead of the Faster / Cascade ones.

Needs only NumPy and PyTorch::

    sd = state_dict_from_keys_json("tests/data/mmdet_reference_mask/keys_mask.json")
    model.load_state_dict(sd, strict=True)
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

# Mask branches: convs keep a unit-ish scale (ReLU gain), logits spread around 0.
MASK_ROLES: tuple[tuple[str, float, float], ...] = (
    (r"\.mask_head\.(\d+\.)?(convs|conv_res)\.", 1.4142135623730951, 0.01),
    (r"\.mask_head\.(\d+\.)?upsample\.", 1.4142135623730951, 0.01),
    (r"\.mask_head\.(\d+\.)?conv_logits\.", 1.0, 0.3),
    (r"\.semantic_head\.", 1.0, 0.01),
)
# Per model (the stem of keys_*.json's "config"): the RoI classifier bias shifts.
MODEL_CLS_BIAS_SHIFT: dict[str, dict[str, tuple[float, ...]]] = {
    "mask_rcnn_r18_fpn_tiny": {
        "roi_head.bbox_head.fc_cls.bias": (5.53, -0.45, -0.19, 13.33),
    },
    "cascade_mask_rcnn_r18_fpn_tiny": {
        "roi_head.bbox_head.0.fc_cls.bias": (-1.61, 0.44, 2.48, 9.07),
        "roi_head.bbox_head.1.fc_cls.bias": (-2.97, -4.42, 0.58, 3.92),
        "roi_head.bbox_head.2.fc_cls.bias": (-3.12, -0.5, -1.02, 11.46),
    },
    "htc_r18_fpn_tiny": {
        "roi_head.bbox_head.0.fc_cls.bias": (-1.02, 0.6, 3.3, 8.96),
        "roi_head.bbox_head.1.fc_cls.bias": (-3.73, -5.05, 0.93, 3.57),
        "roi_head.bbox_head.2.fc_cls.bias": (-2.65, -1.73, -0.91, 12.1),
    },
}


def _base_module():
    spec = importlib.util.spec_from_file_location(
        "mmdet_reference_mask_calibrated_weights_base",
        HERE.parent / "mmdet_reference" / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate_state_dict(shapes: Mapping[str, Sequence[int]], seed: int = DEFAULT_SEED,
                        dtypes: Mapping[str, str] | None = None, model: str | None = None
                        ) -> OrderedDict[str, torch.Tensor]:
    """The calibrated state_dict (sorted key order) of a reference model."""
    base = _base_module()  # a private copy: its tables are set here only
    base.ROLES = MASK_ROLES + tuple(base.ROLES)
    base.CLS_BIAS_SHIFT = dict(MODEL_CLS_BIAS_SHIFT.get(model, {}))
    return base.generate_state_dict(shapes, seed, dtypes)


def state_dict_from_keys_json(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """Rebuild a reference model's state_dict from its ``keys_*.json``."""
    spec = json.loads(Path(path).read_text())
    shapes = {name: shape for name, shape, _ in spec["keys"]}
    dtypes = {name: dtype for name, _, dtype in spec["keys"]}
    return generate_state_dict(shapes, int(spec["seed"]), dtypes, Path(spec["config"]).stem)
