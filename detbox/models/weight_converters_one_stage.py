"""Convert torchvision's RetinaNet and FCOS weights to MMDetection-v2 (detbox) state_dict names.

torchvision's ``retinanet_resnet50_fpn`` and ``fcos_resnet50_fpn`` have the heads of
MMDetection's RetinaNet and FCOS, so their weights carry over one to one:

- ``backbone.body.*`` -> ``backbone.*``, ``backbone.fpn.inner_blocks.i`` / ``layer_blocks.i`` ->
  ``neck.lateral_convs.i`` / ``neck.fpn_convs.i`` (as for Faster R-CNN), and the extra levels
  ``backbone.fpn.extra_blocks.p6`` / ``p7`` -> ``neck.fpn_convs.3`` / ``.4``;
- RetinaNet: ``head.classification_head.conv.i.0`` -> ``bbox_head.cls_convs.i.conv``,
  ``cls_logits`` -> ``retina_cls``, ``head.regression_head.conv.i.0`` ->
  ``bbox_head.reg_convs.i.conv``, ``bbox_reg`` -> ``retina_reg``. Both lay out their outputs
  as ``anchor * C + class`` with anchors ratio-major, as MMDetection's ``scale_major``;
- FCOS: the towers are ``[conv, GroupNorm, ReLU] * 4`` (``conv.{3i}`` / ``conv.{3i+1}`` ->
  ``cls_convs.i.conv`` / ``cls_convs.i.gn``), ``cls_logits`` -> ``conv_cls``, ``bbox_reg`` ->
  ``conv_reg``, ``bbox_ctrness`` -> ``conv_centerness``; torchvision's FCOS head is
  MMDetection's with ``norm_on_bbox=True``, ``centerness_on_reg=True``, ``conv_bias=True`` and
  every ``scales.i`` at 1 (added by the converter).

What differs outside the weights: torchvision's FPN makes P6 from P5's output (MMDetection's
``add_extra_convs='on_output'``; MMDetection's RetinaNet configs use ``'on_input'``), rounds its
anchor sizes, places FCOS points at ``x * stride`` (MMDetection: ``(x + 0.5) * stride``) and
keeps class 0 as "background" among its 91 classes. Build the detbox model with
``num_classes=91`` (RetinaNet: also ``neck.add_extra_convs='on_output'``) to load with
``strict=True``.
"""

from __future__ import annotations

import re

import torch
from torch import Tensor

__all__ = ["convert_torchvision_retinanet", "convert_torchvision_fcos"]

_COMMON = [
    (r"^backbone\.body\.", "backbone."),
    (r"^backbone\.fpn\.inner_blocks\.(\d+)\.0\.", r"neck.lateral_convs.\1.conv."),
    (r"^backbone\.fpn\.layer_blocks\.(\d+)\.0\.", r"neck.fpn_convs.\1.conv."),
]
_RETINANET = _COMMON + [
    (r"^head\.classification_head\.conv\.(\d+)\.0\.", r"bbox_head.cls_convs.\1.conv."),
    (r"^head\.classification_head\.cls_logits\.", "bbox_head.retina_cls."),
    (r"^head\.regression_head\.conv\.(\d+)\.0\.", r"bbox_head.reg_convs.\1.conv."),
    (r"^head\.regression_head\.bbox_reg\.", "bbox_head.retina_reg."),
]
_FCOS = _COMMON + [
    (r"^head\.classification_head\.cls_logits\.", "bbox_head.conv_cls."),
    (r"^head\.regression_head\.bbox_reg\.", "bbox_head.conv_reg."),
    (r"^head\.regression_head\.bbox_ctrness\.", "bbox_head.conv_centerness."),
]
_TOWERS = {"classification_head": "cls_convs", "regression_head": "reg_convs"}


def _extra_levels(key: str, num_laterals: int) -> str:
    """``backbone.fpn.extra_blocks.p6`` / ``p7`` -> ``neck.fpn_convs.{n}`` / ``{n + 1}``."""
    match = re.match(r"^backbone\.fpn\.extra_blocks\.p(\d+)\.(.*)$", key)
    if match is None:
        return key
    index = num_laterals + int(match.group(1)) - 6
    return f"neck.fpn_convs.{index}.conv.{match.group(2)}"


def _convert(state_dict: dict[str, Tensor], renames: list[tuple[str, str]],
             tower_rename=None) -> dict[str, Tensor]:
    num_laterals = len({k.split(".")[3] for k in state_dict
                        if k.startswith("backbone.fpn.inner_blocks.")})
    out: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        new = _extra_levels(key, num_laterals)
        for pattern, repl in renames:
            new = re.sub(pattern, repl, new)
        if new == key and tower_rename is not None:
            new = tower_rename(key)
        if new == key:
            raise KeyError(f"no detbox name for torchvision key '{key}'")
        out[new] = value
        if new.startswith("backbone.") and new.endswith(".running_var"):
            tracked = new[: -len("running_var")] + "num_batches_tracked"
            out.setdefault(tracked, torch.tensor(0))
    return out


def convert_torchvision_retinanet(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    """A torchvision ``RetinaNet`` (ResNet-FPN) state_dict renamed for detbox's ``RetinaNet``."""
    return _convert(state_dict, _RETINANET)


def _fcos_tower(key: str) -> str:
    match = re.match(r"^head\.(classification_head|regression_head)\.conv\.(\d+)\.(.*)$", key)
    if match is None:
        return key
    index = int(match.group(2))
    layer, kind = divmod(index, 3)
    if kind == 2:  # ReLU: no parameters
        return key
    part = "conv" if kind == 0 else "gn"
    return f"bbox_head.{_TOWERS[match.group(1)]}.{layer}.{part}.{match.group(3)}"


def convert_torchvision_fcos(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    """A torchvision ``FCOS`` (ResNet-FPN) state_dict renamed for detbox's ``FCOS``, with the
    per-level ``bbox_head.scales.i.scale`` set to 1."""
    out = _convert(state_dict, _FCOS, tower_rename=_fcos_tower)
    num_levels = len([k for k in out if re.match(r"^neck\.fpn_convs\.\d+\.conv\.weight$", k)])
    for level in range(num_levels):
        out[f"bbox_head.scales.{level}.scale"] = torch.tensor(1.0)
    return out
