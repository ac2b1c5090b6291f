"""Deterministic "random but calibrated" weights for the MMDetection reference models.

Needs only NumPy and PyTorch, so both sides can build the identical state_dict:
MMDetection's side (``make_reference.py``, from the model it builds) and detbox's side
(from ``keys_{faster,cascade}.json``: the key list, shapes, dtypes and seed).

Rules, applied to the keys in sorted (Python ``sorted``) order with one
``np.random.RandomState(seed)``; every draw is float64 and cast to the key's dtype:

* ``*.num_batches_tracked``: zero (int64, no draw).
* BatchNorm group (a ``P.weight`` whose ``P.running_mean`` is also a key):
  ``weight ~ U(0.5, 1.5)``, ``bias ~ N(0, 0.1)``, ``running_mean ~ N(0, 0.1)``,
  ``running_var ~ U(0.5, 1.5)``.
* Any other tensor of 2+ dims (conv / linear weight): ``N(0, (gain / sqrt(fan_in))^2)``
  with ``fan_in = prod(shape[1:])`` and ``gain`` from the first matching entry of ``ROLES``.
* Any other 1-dim tensor (a bias): ``N(0, bias_std^2)`` from ``ROLES``; then a key listed in
  ``CLS_BIAS_SHIFT`` (the RoI classifiers of the two reference models) gets that vector added,
  and any other RoI classifier bias (``fc_cls.bias``) gets ``BG_BIAS`` added to its last
  element (MMDetection's background class).

The gains were tuned once on the tiny ResNet-18 models (see README.md) so that features
keep a unit-ish scale, RPN objectness logits are spread (not saturated, so no score ties)
and the RoI head gives a few tens of detections above score_thr 0.05.

Example (detbox side)::

    sd = state_dict_from_keys_json("tests/data/mmdet_reference/keys_faster.json")
    model.load_state_dict(sd, strict=True)
"""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import torch

DEFAULT_SEED = 20240601

# (regex searched in the key, gain for weights, std for biases); first match wins.
ROLES: tuple[tuple[str, float, float], ...] = (
    (r"^backbone\.", 1.0, 0.01),
    (r"^neck\.lateral_convs\.", 0.5, 0.01),
    (r"^neck\.fpn_convs\.", 0.5, 0.01),
    (r"^rpn_head\.rpn_conv\.", 1.4142135623730951, 0.01),
    (r"^rpn_head\.rpn_cls\.", 1.5, 0.01),
    (r"^rpn_head\.rpn_reg\.", 0.3, 0.01),
    (r"\.shared_fcs\.", 1.4142135623730951, 0.01),
    (r"\.fc_cls\.", 3.0, 0.01),
    (r"\.fc_reg\.", 0.3, 0.01),
    (r"", 1.0, 0.01),
)
# Added to the background logit (last element) of an RoI classifier bias not in CLS_BIAS_SHIFT.
BG_BIAS = 4.0
# Added to the drawn bias instead of BG_BIAS, per key: tuned once with DEFAULT_SEED on the three
# reference images (make_reference.py --calibrate) so that the class logits of the 3 classes are
# centred over all RoIs and the background logit sits far enough above them that a few tens of
# detections per image pass score_thr 0.05 (the last value is the background's).
CLS_BIAS_SHIFT: dict[str, tuple[float, ...]] = {
    "roi_head.bbox_head.fc_cls.bias": (5.89, -1.6, 2.4, 7.23),
    "roi_head.bbox_head.0.fc_cls.bias": (2.25, -5.02, 1.6, 8.36),
    "roi_head.bbox_head.1.fc_cls.bias": (-0.26, 1.81, 7.51, 1.68),
    "roi_head.bbox_head.2.fc_cls.bias": (4.16, -6.11, -3.52, 3.73),
}

_DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}


def _role(key: str) -> tuple[float, float]:
    for pattern, gain, bias_std in ROLES:
        if re.search(pattern, key):
            return gain, bias_std
    raise AssertionError("unreachable: ROLES ends with a catch-all")


def _bn_prefixes(keys: Iterable[str]) -> set[str]:
    return {k[: -len(".running_mean")] for k in keys if k.endswith(".running_mean")}


def generate_arrays(
    shapes: Mapping[str, Sequence[int]], seed: int = DEFAULT_SEED
) -> OrderedDict[str, np.ndarray]:
    """Draw every tensor as a float64 NumPy array (int64 for num_batches_tracked).

    Args:
        shapes: key -> shape for every key of the state_dict (any order).
        seed: seed of the single ``np.random.RandomState``.

    Returns:
        OrderedDict in sorted key order.
    """
    rng = np.random.RandomState(seed)
    bn = _bn_prefixes(shapes)
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    for key in sorted(shapes):
        shape = tuple(int(s) for s in shapes[key])
        prefix, _, leaf = key.rpartition(".")
        if leaf == "num_batches_tracked":
            out[key] = np.zeros(shape, dtype=np.int64)
        elif prefix in bn:
            if leaf in ("weight", "running_var"):
                out[key] = rng.uniform(0.5, 1.5, size=shape)
            elif leaf in ("bias", "running_mean"):
                out[key] = rng.normal(0.0, 0.1, size=shape)
            else:
                raise ValueError(f"unexpected BatchNorm key {key!r}")
        elif len(shape) >= 2:
            gain, _ = _role(key)
            fan_in = int(np.prod(shape[1:]))
            out[key] = rng.normal(0.0, gain / math.sqrt(fan_in), size=shape)
        elif len(shape) == 1:
            _, bias_std = _role(key)
            arr = rng.normal(0.0, bias_std, size=shape)
            if key in CLS_BIAS_SHIFT and len(CLS_BIAS_SHIFT[key]) == shape[0]:
                arr += np.asarray(CLS_BIAS_SHIFT[key], dtype=np.float64)
            elif key.endswith("fc_cls.bias"):
                arr[-1] += BG_BIAS
            out[key] = arr
        else:
            raise ValueError(f"unexpected 0-dim key {key!r}")
    return out


def generate_state_dict(
    shapes: Mapping[str, Sequence[int]],
    seed: int = DEFAULT_SEED,
    dtypes: Mapping[str, str] | None = None,
) -> OrderedDict[str, torch.Tensor]:
    """Build the calibrated state_dict as torch tensors.

    Args:
        shapes: key -> shape for every key of the state_dict.
        seed: seed of the single ``np.random.RandomState``.
        dtypes: optional key -> "float32" | "float64" | "int64"; default float32, and int64
            for ``num_batches_tracked``.

    Returns:
        OrderedDict key -> tensor, in sorted key order.
    """
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, arr in generate_arrays(shapes, seed).items():
        if dtypes is not None and key in dtypes:
            dtype = _DTYPES[dtypes[key]]
        else:
            dtype = torch.int64 if arr.dtype == np.int64 else torch.float32
        out[key] = torch.from_numpy(np.array(arr, order="C")).to(dtype)
    return out


def state_dict_from_keys_json(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """Rebuild a reference model's state_dict from its ``keys_*.json``.

    The JSON holds ``{"seed": int, "keys": [[name, shape, dtype], ...]}`` in the
    model's own state_dict order.
    """
    spec = json.loads(Path(path).read_text())
    shapes = {name: shape for name, shape, _ in spec["keys"]}
    dtypes = {name: dtype for name, _, dtype in spec["keys"]}
    return generate_state_dict(shapes, int(spec["seed"]), dtypes)
