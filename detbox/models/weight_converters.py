"""Convert torchvision detection weights to MMDetection-v2 (detbox) state_dict names.

torchvision's ``fasterrcnn_resnet50_fpn`` and MMDetection's Faster R-CNN R50-FPN share their
architecture up to small differences (torchvision rounds anchors to integers and pools RoIs
with ``sampling_ratio=2``, ``aligned=False`` and its own level mapping), so their weights carry
over one to one:

- ``backbone.body.*`` -> ``backbone.*`` (frozen BN statistics become BN buffers);
- ``backbone.fpn.inner_blocks.i.0`` / ``layer_blocks.i.0`` -> ``neck.lateral_convs.i.conv`` /
  ``neck.fpn_convs.i.conv``;
- ``rpn.head.conv.0.0`` / ``cls_logits`` / ``bbox_pred`` -> ``rpn_head.rpn_conv`` /
  ``rpn_cls`` / ``rpn_reg``;
- ``roi_heads.box_head.fc6`` / ``fc7`` -> ``roi_head.bbox_head.shared_fcs.0`` / ``.1``;
- ``roi_heads.box_predictor``: torchvision's background is class 0, MMDetection's is the last
  class, so the classifier rows move and the background's box rows are dropped.
"""

from __future__ import annotations

import re

import torch
from torch import Tensor

_RENAMES = [
    (r"^backbone\.body\.", "backbone."),
    (r"^backbone\.fpn\.inner_blocks\.(\d+)\.0\.", r"neck.lateral_convs.\1.conv."),
    (r"^backbone\.fpn\.layer_blocks\.(\d+)\.0\.", r"neck.fpn_convs.\1.conv."),
    (r"^rpn\.head\.conv\.0\.0\.", "rpn_head.rpn_conv."),
    (r"^rpn\.head\.cls_logits\.", "rpn_head.rpn_cls."),
    (r"^rpn\.head\.bbox_pred\.", "rpn_head.rpn_reg."),
    (r"^roi_heads\.box_head\.fc6\.", "roi_head.bbox_head.shared_fcs.0."),
    (r"^roi_heads\.box_head\.fc7\.", "roi_head.bbox_head.shared_fcs.1."),
]


def convert_torchvision_faster_rcnn(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    """A torchvision ``FasterRCNN`` (ResNet-FPN) state_dict renamed for detbox's ``FasterRCNN``.

    Returns:
        The converted state_dict; BN layers get ``num_batches_tracked`` so that it loads with
        ``strict=True`` into ``faster_rcnn_r50_fpn`` with ``num_classes = C - 1``.
    """
    out: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        if key.startswith("roi_heads.box_predictor."):
            continue
        new = key
        for pattern, repl in _RENAMES:
            new = re.sub(pattern, repl, new)
        if new == key:
            raise KeyError(f"no detbox name for torchvision key '{key}'")
        out[new] = value
        if new.startswith("backbone.") and new.endswith(".running_var"):
            out[new[: -len("running_var")] + "num_batches_tracked"] = torch.tensor(0)
    cls_w = state_dict.get("roi_heads.box_predictor.cls_score.weight")
    if cls_w is not None:
        order = list(range(1, cls_w.shape[0])) + [0]  # background: first -> last
        out["roi_head.bbox_head.fc_cls.weight"] = cls_w[order]
        out["roi_head.bbox_head.fc_cls.bias"] = state_dict[
            "roi_heads.box_predictor.cls_score.bias"][order]
        out["roi_head.bbox_head.fc_reg.weight"] = state_dict[
            "roi_heads.box_predictor.bbox_pred.weight"][4:]
        out["roi_head.bbox_head.fc_reg.bias"] = state_dict[
            "roi_heads.box_predictor.bbox_pred.bias"][4:]
    return out
