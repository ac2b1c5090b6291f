"""Calibrated random weights for the Swin reference models: the one-stage rules plus Swin roles.

``../mmdet_reference_one_stage/calibrated_weights.py`` is loaded as it is (a private copy of the
module) and extended, not copied:

* ``SWIN_ROLES`` go before its ``ROLES``: layer norm weights ``1 + N(0, 0.1^2)`` and biases
  ``N(0, 0.1^2)`` in the backbone (through ``SWIN_SHIFTS``), absolute position embeddings of
  about 0.5 (gain 150 over ``fan_in = C * H * W``); everything else in the backbone (patch
  embedding, ``qkv``, ``proj``, FFN, patch merging, relative position bias tables ``[L, heads]``)
  keeps the ``^backbone\\.`` role (``N(0, 1 / fan_in)`` weights, bias tables about 1);
* ``relative_position_index`` buffers are not drawn: they are the index of the window size
  (:func:`relative_position_index`), identical to what both MMDetection and detbox compute;
* ``MODEL_SHIFTS`` of the two Swin models: the classifier bias shifts tuned with
  ``make_reference.py --calibrate 0.998 / 0.99`` (README.md).

    sd = state_dict_from_keys_json("tests/data/mmdet_reference_swin/keys_retinanet.json")
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections import OrderedDict
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
SWIN_ROLES: tuple[tuple[str, float, float], ...] = (
    (r"^backbone\.(.*\.)?norm\d*\.(weight|bias)$", 1.0, 0.1),
    (r"^backbone\.absolute_pos_embed$", 150.0, 0.0),
)
SWIN_SHIFTS: tuple[tuple[str, float], ...] = (
    (r"^backbone\.(.*\.)?norm\d*\.weight$", 1.0),
)
SWIN_MODEL_SHIFTS: dict[str, tuple[tuple[str, float], ...]] = {
    "retinanet_swin-t_fpn_tiny": ((r"^bbox_head\.retina_cls\.bias$", -5.74),),
    "atss_swin-t_fpn_tiny": ((r"^bbox_head\.atss_cls\.bias$", -8.07),),
}


def _one_stage():
    spec = importlib.util.spec_from_file_location(
        "calibrated_weights_one_stage_for_swin",
        HERE.parent / "mmdet_reference_one_stage" / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ROLES = SWIN_ROLES + module.ROLES
    module.SHIFTS = SWIN_SHIFTS + module.SHIFTS
    module.MODEL_SHIFTS = dict(module.MODEL_SHIFTS, **SWIN_MODEL_SHIFTS)
    return module


DEFAULT_SEED = _one_stage().DEFAULT_SEED


def relative_position_index(length: int) -> np.ndarray:
    """The ``[N, N]`` index of a square ``ws x ws`` window (``N = ws * ws``):
    ``(y1 - y2 + ws - 1) * (2 ws - 1) + (x1 - x2 + ws - 1)``."""
    ws = math.isqrt(length)
    ys, xs = np.divmod(np.arange(length), ws)
    return ((ys[:, None] - ys[None, :] + ws - 1) * (2 * ws - 1)
            + (xs[:, None] - xs[None, :] + ws - 1)).astype(np.int64)


def generate_state_dict(shapes: Mapping[str, Sequence[int]], seed: int = DEFAULT_SEED,
                        dtypes: Mapping[str, str] | None = None, model: str | None = None
                        ) -> OrderedDict[str, torch.Tensor]:
    """The calibrated state_dict (one-stage rules + Swin roles), keys in ``shapes``' order."""
    module = _one_stage()
    index_keys = [k for k in shapes if k.endswith("relative_position_index")]
    drawn = module.generate_state_dict({k: s for k, s in shapes.items() if k not in index_keys},
                                       seed, dtypes, model)
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, shape in shapes.items():
        if key in index_keys:
            out[key] = torch.from_numpy(relative_position_index(int(shape[0])))
        else:
            out[key] = drawn[key]
    return out


def state_dict_from_keys_json(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """Rebuild a reference model's state_dict from its ``keys_*.json``."""
    spec = json.loads(Path(path).read_text())
    shapes = {name: shape for name, shape, _ in spec["keys"]}
    dtypes = {name: dtype for name, _, dtype in spec["keys"]}
    return generate_state_dict(shapes, int(spec["seed"]), dtypes, Path(spec["config"]).stem)
