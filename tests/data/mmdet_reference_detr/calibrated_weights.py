"""Deterministic "random but calibrated" weights for the DETR-family MMDetection reference models.

``../mmdet_reference_one_stage/calibrated_weights.py`` (itself built on
``../mmdet_reference/calibrated_weights.py``) is loaded as a private copy and used with this
folder's tables: one ``np.random.RandomState(seed)`` over the keys in sorted order,
``N(0, (gain / sqrt(fan_in))^2)`` weights, ``N(0, std^2)`` 1-dim tensors, then ``SHIFTS``
added. The roles added here: LayerNorm weights ``1 + N(0, 0.1^2)``, sampling-offset biases of
about one feature cell, small regression outputs, query embeddings of unit size and sharper
attention projections (so that queries do not collapse to near-identical outputs, whose
scores would tie), and Sparse R-CNN's learned proposal boxes
around ``(0.5, 0.5, 0.5, 0.5)`` (``cx, cy, w, h``, half-image boxes near the centre). No
classifier calibration is needed: these heads keep their top-k scores without a threshold.

Needs only NumPy and PyTorch::

    sd = state_dict_from_keys_json("tests/data/mmdet_reference_detr/keys_detr.json")
    model.load_state_dict(sd, strict=True)
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import OrderedDict
from pathlib import Path
from typing import Mapping, Sequence

import torch

HERE = Path(__file__).resolve().parent
DEFAULT_SEED = 20240602
_LN = (r"(norms\.\d+|post_norm|_norm|norm_in|norm_out|fc_norm|(cls|reg)_fcs\.(1|4|7))"
       r"\.(weight|bias)$")

ROLES: tuple[tuple[str, float, float], ...] = (
    (r"^backbone\.", 1.0, 0.01),
    (r"^neck\.(0\.)?(lateral|fpn)_convs\.", 0.5, 0.01),
    (r"\.(gn|norm)\.(weight|bias)$", 1.0, 0.1),
    (_LN, 1.0, 0.1),
    (r"^neck\.", 1.0, 0.01),
    (r"\.init_proposal_bboxes\.", 0.2, 0.01),
    (r"\.sampling_offsets\.", 1.0, 1.0),
    (r"\.query_embedding\.", 8.0, 0.01),
    (r"\.attn\.in_proj_weight$", 2.0, 0.01),
    (r"(\.fc_reg\.|reg_branches\.\d+\.\d+\.)", 0.3, 0.01),
    (r"", 1.0, 0.01),
)
SHIFTS: tuple[tuple[str, float], ...] = (
    (r"\.(gn|norm)\.weight$", 1.0),
    (_LN.replace(r"\.(weight|bias)$", r"\.weight$"), 1.0),
    (r"\.init_proposal_bboxes\.weight$", 0.5),
)


# Per model (the stem of keys_*.json's "config"): a vector added to the classifier biases
# matching the key pattern, minus the mean last-layer class logit over the queries (proposals)
# of the 3 images measured once without it (README.md), so that no class wins everywhere.
_DETR_CLS = r"^bbox_head\.(fc_cls|cls_branches\.\d+)\.bias$"
CLS_SHIFTS: dict[str, tuple[str, tuple[float, ...]]] = {
    "detr_r18_tiny": (_DETR_CLS, (1.49, -0.67, 1.44, 2.28)),
    "deformable_detr_r18_tiny": (_DETR_CLS, (-1.45, 0.81, -0.24)),
    "deformable_detr_refine_r18_tiny": (_DETR_CLS, (-1.52, 0.80, -0.23)),
    "deformable_detr_twostage_refine_r18_tiny": (_DETR_CLS, (1.50, 0.92, -1.13)),
    "sparse_rcnn_r18_fpn_tiny": (r"^roi_head\.bbox_head\.\d+\.fc_cls\.bias$",
                                 (-0.75, 0.10, 0.09)),
}


def _one_stage_module():
    spec = importlib.util.spec_from_file_location(
        "mmdet_reference_detr_calibrated_weights_base",
        HERE.parent / "mmdet_reference_one_stage" / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ROLES = ROLES  # a private copy: its tables are replaced here only
    module.SHIFTS = SHIFTS
    module.MODEL_SHIFTS = {}
    module.SCALARS = ()
    return module


def generate_state_dict(shapes: Mapping[str, Sequence[int]], seed: int = DEFAULT_SEED,
                        dtypes: Mapping[str, str] | None = None, model: str | None = None
                        ) -> OrderedDict[str, torch.Tensor]:
    """The calibrated state_dict as torch tensors (float32 unless ``dtypes`` says otherwise)."""
    out = _one_stage_module().generate_state_dict(shapes, seed, dtypes)
    if model in CLS_SHIFTS:
        pattern, shift = CLS_SHIFTS[model]
        for key in out:
            if re.search(pattern, key):
                out[key] = out[key] + torch.tensor(shift, dtype=out[key].dtype)
    return out


def state_dict_from_keys_json(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """Rebuild a reference model's state_dict from its ``keys_*.json``."""
    spec = json.loads(Path(path).read_text())
    shapes = {name: shape for name, shape, _ in spec["keys"]}
    dtypes = {name: dtype for name, _, dtype in spec["keys"]}
    return generate_state_dict(shapes, int(spec["seed"]), dtypes, Path(spec["config"]).stem)
