"""Calibrated random weights of the LD / LAD reference models and of their teachers.

No rule of its own: each model (the stem of its config, the ``config`` of ``keys_*.json``) is
drawn by another folder's ``calibrated_weights.py``, loaded as a private copy, under the model
name whose shifts it takes there:

* the LD student (``ld_r18_gfl_r18_tiny``) and its GFL teacher (``gfl_r18_fpn_teacher_tiny``):
  ``../mmdet_reference_gfl_tood_vfnet/`` as ``gfl_r18_fpn_tiny`` (its classifier shift, the
  distribution-bias tilt, ``integral.project = 0..reg_max``);
* the LAD student and its PAA teacher (``lad_r18_paa_r18_tiny`` and
  ``lad_r18_paa_r18_tiny_teacher``): ``../mmdet_reference_dense2/`` as ``paa_r18_fpn_tiny``.

Students use the folders' seed, teachers ``TEACHER_SEED`` (their ``keys_*_teacher.json`` say
so). Needs only NumPy and PyTorch::

    sd = state_dict_from_keys_json("tests/data/mmdet_reference_ld/keys_ld_teacher.json")
"""

from __future__ import annotations

import importlib.util
import json
from collections import OrderedDict
from pathlib import Path
from typing import Mapping, Sequence

import torch

HERE = Path(__file__).resolve().parent


def _private(folder: str):
    spec = importlib.util.spec_from_file_location(
        f"calibrated_weights_{folder}_for_ld", HERE.parent / folder / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_GFL = _private("mmdet_reference_gfl_tood_vfnet")
_PAA = _private("mmdet_reference_dense2")
# model (config stem) -> (the module that draws it, the model name it is drawn as there)
RULES = {
    "ld_r18_gfl_r18_tiny": (_GFL, "gfl_r18_fpn_tiny"),
    "gfl_r18_fpn_teacher_tiny": (_GFL, "gfl_r18_fpn_tiny"),
    "lad_r18_paa_r18_tiny": (_PAA, "paa_r18_fpn_tiny"),
    "lad_r18_paa_r18_tiny_teacher": (_PAA, "paa_r18_fpn_tiny"),
}
DEFAULT_SEED = _GFL.DEFAULT_SEED
TEACHER_SEED = DEFAULT_SEED + 1
assert _PAA.DEFAULT_SEED == DEFAULT_SEED


def _rule(model: str | None):
    if model not in RULES:
        raise KeyError(f"no calibration rule for model {model!r}; known: {', '.join(RULES)}")
    return RULES[model]


def generate_state_dict(shapes: Mapping[str, Sequence[int]], seed: int = DEFAULT_SEED,
                        dtypes: Mapping[str, str] | None = None, model: str | None = None
                        ) -> OrderedDict[str, torch.Tensor]:
    """The calibrated state_dict of ``model`` (a key of :data:`RULES`)."""
    module, drawn_as = _rule(model)
    return module.generate_state_dict(shapes, seed, dtypes, drawn_as)


def state_dict_from_keys_json(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """Rebuild a model's state_dict from its ``keys_*.json`` (``model`` names the rule when
    given, else the config's stem)."""
    spec = json.loads(Path(path).read_text())
    shapes = {name: shape for name, shape, _ in spec["keys"]}
    dtypes = {name: dtype for name, _, dtype in spec["keys"]}
    model = spec.get("model", Path(spec["config"]).stem)
    return generate_state_dict(shapes, int(spec["seed"]), dtypes, model)
