"""``ResLayer`` shared head: a ResNet stage run on pooled RoI features (C4 R-CNN models)."""

from __future__ import annotations

import warnings
from typing import Any

from torch import Tensor

from ....registry import MODELS
from ...backbones.resnet import ResNet
from ...base_module import BaseModule
from ...layers import ResLayer as _ResLayer
from ...layers.norm import batch_norms_to_eval


@MODELS.register_module(name="ResLayer")
class ResLayerSharedHead(BaseModule):
    """ResNet stage ``stage`` (0-based; 3 = ``layer4``) as a head; keys ``layer{stage+1}.*``.

    Args:
        depth: ResNet depth (picks the block and the stage's block count).
        stage: which stage.
        stride / dilation / style: of the stage.
        norm_cfg: norm config.
        norm_eval: keep BatchNorm in eval mode while training.
        with_cp: gradient checkpointing (accepted, unused).
        dcn: not supported.
        pretrained: deprecated; a checkpoint path.
        init_cfg: initialisation config (Kaiming convs, constant norms by default).
    """

    def __init__(self, depth: int, stage: int = 3, stride: int = 2, dilation: int = 1,
                 style: str = "pytorch", norm_cfg: dict | None = None, norm_eval: bool = True,
                 with_cp: bool = False, dcn: dict | None = None, pretrained: str | None = None,
                 init_cfg: Any = None) -> None:
        super().__init__(init_cfg)
        if init_cfg and pretrained:
            raise ValueError("init_cfg and pretrained cannot be specified at the same time")
        self.norm_cfg = norm_cfg or dict(type="BN", requires_grad=True)
        self.norm_eval = norm_eval
        self.stage = stage
        self.fp16_enabled = False
        block, stage_blocks = ResNet.arch_settings[depth]
        planes = 64 * 2 ** stage
        inplanes = 64 * 2 ** (stage - 1) * block.expansion
        self.add_module(f"layer{stage + 1}", _ResLayer(
            block, inplanes, planes, stage_blocks[stage], stride=stride, dilation=dilation,
            style=style, with_cp=with_cp, norm_cfg=self.norm_cfg, dcn=dcn))
        if isinstance(pretrained, str):
            warnings.warn("pretrained is deprecated, use init_cfg instead", DeprecationWarning,
                          stacklevel=2)
            self.init_cfg = dict(type="Pretrained", checkpoint=pretrained)
        elif pretrained is None and init_cfg is None:
            self.init_cfg = [dict(type="Kaiming", layer="Conv2d"),
                             dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm"])]

    def forward(self, x: Tensor) -> Tensor:
        return getattr(self, f"layer{self.stage + 1}")(x)

    def train(self, mode: bool = True) -> ResLayerSharedHead:
        super().train(mode)
        if self.norm_eval:
            batch_norms_to_eval(self)
        return self
