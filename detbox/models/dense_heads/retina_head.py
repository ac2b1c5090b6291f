"""``RetinaHead``: the head of RetinaNet (Lin et al., 2017), MMDetection v2's names and defaults.

Two towers of ``stacked_convs`` 3x3 convs (``cls_convs.i``, ``reg_convs.i``, each a
``ConvModule`` with ReLU) feed a 3x3 classifier ``retina_cls`` (``A * C`` channels) and a 3x3
box regressor ``retina_reg`` (``A * 4``). Targets, losses and test-time decoding are
``AnchorHead``'s (MaxIoU assignment, focal loss over all anchors, no sampling).

>>> import torch
>>> head = RetinaHead(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1)
>>> cls_scores, bbox_preds = head([torch.zeros(1, 8, 4, 4)])
>>> tuple(cls_scores[0].shape), tuple(bbox_preds[0].shape)  # 9 anchors per location
((1, 27, 4, 4), (1, 36, 4, 4))
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ...registry import MODELS
from .anchor_head import AnchorHead
from .head_utils import conv_towers, run_towers

__all__ = ["RetinaHead"]


@MODELS.register_module()
class RetinaHead(AnchorHead):
    """RetinaNet's head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        stacked_convs: 3x3 convs in each tower.
        conv_cfg: conv layer config of the towers.
        norm_cfg: norm layer config of the towers (``None``: none).
        anchor_generator: anchor generator config (default: 3 octave scales from 4, ratios
            0.5/1/2, strides 8..128).
        init_cfg: initialisation (default: normal std 0.01 convs; ``retina_cls`` bias for a
            prior probability of 0.01).
        **kwargs: ``AnchorHead`` arguments (``feat_channels``, ``bbox_coder``, ``loss_cls``,
            ``loss_bbox``, ``reg_decoded_bbox``, ``train_cfg``, ``test_cfg``).
    """

    def __init__(self, num_classes: int, in_channels: int, stacked_convs: int = 4,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                 anchor_generator: dict | None = None, init_cfg: dict | list | None = None,
                 **kwargs: Any) -> None:
        self.stacked_convs = stacked_convs
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        if anchor_generator is None:
            anchor_generator = dict(type="AnchorGenerator", octave_base_scale=4,
                                    scales_per_octave=3, ratios=[0.5, 1.0, 2.0],
                                    strides=[8, 16, 32, 64, 128])
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01,
                            override=dict(type="Normal", name="retina_cls", std=0.01,
                                          bias_prob=0.01))
        super().__init__(num_classes, in_channels, anchor_generator=anchor_generator,
                         init_cfg=init_cfg, **kwargs)

    def _init_layers(self) -> None:
        self.relu = nn.ReLU(inplace=True)
        self.cls_convs, self.reg_convs = conv_towers(self.stacked_convs, self.in_channels,
                                                     self.feat_channels, self.conv_cfg,
                                                     self.norm_cfg)
        self.retina_cls = nn.Conv2d(self.feat_channels,
                                    self.num_base_priors * self.cls_out_channels, 3, padding=1)
        self.retina_reg = nn.Conv2d(self.feat_channels, self.num_base_priors * 4, 3, padding=1)

    def forward_single(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``x: Tensor[B, in, H, W]`` -> ``(Tensor[B, A*C, H, W], Tensor[B, A*4, H, W])``."""
        cls_feat, reg_feat = run_towers(x, self.cls_convs, self.reg_convs)
        return self.retina_cls(cls_feat), self.retina_reg(reg_feat)
