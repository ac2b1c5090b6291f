"""Small models whose optimizer param groups are recorded from mmcv / MMDetection.

Pure PyTorch (no detbox, no mmcv), so both sides build the same modules with the same
parameter names; ``make_optimizer_groups.py`` records MMDetection's groups for them and
``tests/engine/test_layer_decay_optimizer_constructor.py`` compares detbox's.
"""

from __future__ import annotations

import torch
from torch import nn

# A ConvNeXt small enough to build fast, with 7 blocks in stage 2 (layer ids 3 + block // 3).
CONVNEXT = dict(arch=dict(depths=[1, 2, 7, 1], channels=[8, 16, 24, 32]),
                out_indices=[0, 1, 2, 3], gap_before_final_norm=False,
                layer_scale_init_value=1.0, frozen_stages=1)
ADAMW = dict(type="AdamW", lr=0.0002, betas=(0.9, 0.999), weight_decay=0.05)
LAYER_DECAY = {
    "layer_wise": dict(decay_rate=0.7, decay_type="layer_wise", num_layers=12),
    "stage_wise": dict(decay_rate=0.8, decay_type="stage_wise", num_layers=6),
}
# MMDetection's Swin configs' paramwise_cfg, and one with the other DefaultOptimizerConstructor
# rules on top.
SWIN_KEYS = dict(custom_keys={
    "absolute_pos_embed": dict(decay_mult=0.),
    "relative_position_bias_table": dict(decay_mult=0.),
    "norm": dict(decay_mult=0.)})
PARAMWISE = {
    "swin_custom_keys": SWIN_KEYS,
    "mixed_rules": dict(custom_keys={"absolute_pos_embed": dict(decay_mult=0.),
                                     "head.cls": dict(lr_mult=10.0, decay_mult=2.0),
                                     "head": dict(lr_mult=0.5)},
                        bias_lr_mult=2.0, bias_decay_mult=0.0, norm_decay_mult=0.5,
                        dwconv_decay_mult=0.25),
}


class ToyDetector(nn.Module):
    """``backbone`` (given) + ``neck`` (a 1x1 conv and a GroupNorm) + ``bbox_head``."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = nn.Sequential(nn.Conv2d(32, 8, 1), nn.GroupNorm(2, 8))
        self.bbox_head = nn.Conv2d(8, 4, 3, padding=1)


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(8)
        self.attn = nn.Module()
        self.attn.w_msa = nn.Module()
        self.attn.w_msa.relative_position_bias_table = nn.Parameter(torch.zeros(9, 2))
        self.attn.w_msa.qkv = nn.Linear(8, 24)
        self.ffn = nn.Linear(8, 8)


class SwinLike(nn.Module):
    """Parameter names of a Swin detector (``absolute_pos_embed``, bias tables, LayerNorms,
    ``norm{i}`` outputs) plus a BN, a depthwise conv and a head with ``cls``/``reg`` convs."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Module()
        bb = self.backbone
        bb.absolute_pos_embed = nn.Parameter(torch.zeros(1, 4, 8))
        bb.patch_embed = nn.Module()
        bb.patch_embed.projection = nn.Conv2d(3, 8, 4, 4)
        bb.patch_embed.norm = nn.LayerNorm(8)
        bb.stages = nn.ModuleList([nn.Module()])
        bb.stages[0].blocks = nn.ModuleList([_Block(), _Block()])
        bb.norm0 = nn.LayerNorm(8)
        self.neck = nn.Module()
        self.neck.conv = nn.Conv2d(8, 8, 1)
        self.neck.bn = nn.BatchNorm2d(8)
        self.neck.dw = nn.Conv2d(8, 8, 3, groups=8)
        self.head = nn.Module()
        self.head.cls = nn.Conv2d(8, 3, 1)
        self.head.reg = nn.Conv2d(8, 4, 1)
        self.head.frozen = nn.Linear(2, 2)
        self.head.frozen.requires_grad_(False)


def named_groups(optimizer: torch.optim.Optimizer, model: nn.Module) -> list[dict]:
    """Each param group as ``{names, lr, weight_decay}`` (names from ``model``), in order."""
    names = {id(p): n for n, p in model.named_parameters()}
    return [dict(names=[names[id(p)] for p in g["params"]], lr=g["lr"],
                 weight_decay=g["weight_decay"]) for g in optimizer.param_groups]
