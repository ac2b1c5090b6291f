"""``GARetinaHead``: RetinaNet's towers with guided anchors (Guided Anchoring, v2's names).

Two towers of ``stacked_convs`` 3x3 ``ConvModule`` s as in ``RetinaHead``; the location logit
(``conv_loc``) reads the classification tower and the anchor shape (``conv_shape``) the
regression tower; each tower is adapted to the shape (``feature_adaption_cls`` / ``_reg``)
before the 3x3 masked classifier ``retina_cls`` and regressor ``retina_reg``.

>>> import torch
>>> head = GARetinaHead(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1)
>>> outs = head([torch.zeros(1, 8, 4, 4)])
>>> [tuple(o[0].shape) for o in outs]  # one guided anchor per location
[(1, 3, 4, 4), (1, 4, 4, 4), (1, 2, 4, 4), (1, 1, 4, 4)]
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ...registry import MODELS
from ..layers import MaskedConv2d
from .guided_anchor_head import FeatureAdaption, GuidedAnchorHead
from .head_utils import conv_towers, run_towers

__all__ = ["GARetinaHead"]


@MODELS.register_module()
class GARetinaHead(GuidedAnchorHead):
    """Guided-anchor RetinaNet head.

    Args:
        num_classes: object classes (background excluded).
        in_channels: input channels.
        stacked_convs: 3x3 convs in each tower.
        conv_cfg: conv config of the towers.
        norm_cfg: norm config of the towers.
        init_cfg: normal std 0.01 convs, prior-0.01 biases on ``conv_loc`` and ``retina_cls``.
        **kwargs: ``GuidedAnchorHead`` arguments.
    """

    def __init__(self, num_classes: int, in_channels: int, stacked_convs: int = 4,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                 init_cfg: dict | list | None = None, **kwargs: Any) -> None:
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01, override=[
                dict(type="Normal", name="conv_loc", std=0.01, bias_prob=0.01),
                dict(type="Normal", name="retina_cls", std=0.01, bias_prob=0.01)])
        self.stacked_convs = stacked_convs
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        super().__init__(num_classes, in_channels, init_cfg=init_cfg, **kwargs)

    def _init_layers(self) -> None:
        self.relu = nn.ReLU(inplace=True)
        self.cls_convs, self.reg_convs = conv_towers(self.stacked_convs, self.in_channels,
                                                     self.feat_channels, self.conv_cfg,
                                                     self.norm_cfg)
        self.conv_loc = nn.Conv2d(self.feat_channels, 1, 1)
        self.conv_shape = nn.Conv2d(self.feat_channels, self.num_base_priors * 2, 1)
        self.feature_adaption_cls = FeatureAdaption(self.feat_channels, self.feat_channels,
                                                    kernel_size=3,
                                                    deform_groups=self.deform_groups)
        self.feature_adaption_reg = FeatureAdaption(self.feat_channels, self.feat_channels,
                                                    kernel_size=3,
                                                    deform_groups=self.deform_groups)
        self.retina_cls = MaskedConv2d(self.feat_channels,
                                       self.num_base_priors * self.cls_out_channels, 3,
                                       padding=1)
        self.retina_reg = MaskedConv2d(self.feat_channels, self.num_base_priors * 4, 3,
                                       padding=1)

    def forward_single(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(cls_score, bbox_pred, shape_pred, loc_pred)`` of one level."""
        cls_feat, reg_feat = run_towers(x, self.cls_convs, self.reg_convs)
        loc_pred = self.conv_loc(cls_feat)
        shape_pred = self.conv_shape(reg_feat)
        cls_feat = self.feature_adaption_cls(cls_feat, shape_pred)
        reg_feat = self.feature_adaption_reg(reg_feat, shape_pred)
        mask = self._loc_mask(loc_pred)
        return (self.retina_cls(cls_feat, mask), self.retina_reg(reg_feat, mask), shape_pred,
                loc_pred)
