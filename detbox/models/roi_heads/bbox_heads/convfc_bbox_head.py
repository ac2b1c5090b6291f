"""``ConvFCBBoxHead`` and its shared variants (``Shared2FCBBoxHead``, ``Shared4Conv1FCBBoxHead``).

Layout::

                                /-> cls convs -> cls fcs -> fc_cls
    shared convs -> shared fcs
                                \\-> reg convs -> reg fcs -> fc_reg
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ....registry import MODELS
from ...layers import ConvModule
from .bbox_head import BBoxHead, build_linear_layer


@MODELS.register_module()
class ConvFCBBoxHead(BBoxHead):
    """A box head of shared and per-branch convs and fully connected layers.

    Args:
        num_shared_convs / num_shared_fcs: layers shared by both branches.
        num_cls_convs / num_cls_fcs: layers of the classification branch.
        num_reg_convs / num_reg_fcs: layers of the regression branch.
        conv_out_channels: channels of the 3x3 convs.
        fc_out_channels: width of the fully connected layers.
        conv_cfg / norm_cfg: conv and norm configs of the convs.
        init_cfg: initialisation config (Xavier on the fcs is added by default).
        **kwargs: ``BBoxHead`` arguments.
    """

    def __init__(self, num_shared_convs: int = 0, num_shared_fcs: int = 0,
                 num_cls_convs: int = 0, num_cls_fcs: int = 0, num_reg_convs: int = 0,
                 num_reg_fcs: int = 0, conv_out_channels: int = 256, fc_out_channels: int = 1024,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                 init_cfg: dict | list | None = None, **kwargs: Any) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_shared_convs + num_shared_fcs + num_cls_convs + num_cls_fcs + num_reg_convs \
                + num_reg_fcs <= 0:
            raise ValueError("ConvFCBBoxHead needs at least one conv or fc layer")
        if (num_cls_convs > 0 or num_reg_convs > 0) and num_shared_fcs != 0:
            raise ValueError("branch convs cannot follow shared fcs")
        if not self.with_cls and (num_cls_convs or num_cls_fcs):
            raise ValueError("with_cls=False but cls branch layers are given")
        if not self.with_reg and (num_reg_convs or num_reg_fcs):
            raise ValueError("with_reg=False but reg branch layers are given")
        self.num_shared_convs = num_shared_convs
        self.num_shared_fcs = num_shared_fcs
        self.num_cls_convs = num_cls_convs
        self.num_cls_fcs = num_cls_fcs
        self.num_reg_convs = num_reg_convs
        self.num_reg_fcs = num_reg_fcs
        self.conv_out_channels = conv_out_channels
        self.fc_out_channels = fc_out_channels
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg

        self.shared_convs, self.shared_fcs, last_dim = self._add_conv_fc_branch(
            num_shared_convs, num_shared_fcs, self.in_channels, True)
        self.shared_out_channels = last_dim
        self.cls_convs, self.cls_fcs, self.cls_last_dim = self._add_conv_fc_branch(
            num_cls_convs, num_cls_fcs, self.shared_out_channels)
        self.reg_convs, self.reg_fcs, self.reg_last_dim = self._add_conv_fc_branch(
            num_reg_convs, num_reg_fcs, self.shared_out_channels)
        if num_shared_fcs == 0 and not self.with_avg_pool:
            if num_cls_fcs == 0:
                self.cls_last_dim *= self.roi_feat_area
            if num_reg_fcs == 0:
                self.reg_last_dim *= self.roi_feat_area
        self.relu = nn.ReLU(inplace=True)
        # the predictors are rebuilt because their input width changed
        if self.with_cls:
            self.fc_cls = build_linear_layer(self.cls_predictor_cfg, self.cls_last_dim,
                                             self.num_classes + 1)
        if self.with_reg:
            out_reg = 4 if self.reg_class_agnostic else 4 * self.num_classes
            self.fc_reg = build_linear_layer(self.reg_predictor_cfg, self.reg_last_dim, out_reg)
        if init_cfg is None:
            self.init_cfg += [dict(type="Xavier", distribution="uniform",
                                   override=[dict(name="shared_fcs"), dict(name="cls_fcs"),
                                             dict(name="reg_fcs")])]

    def _add_conv_fc_branch(self, num_convs: int, num_fcs: int, in_channels: int,
                            is_shared: bool = False) -> tuple[nn.ModuleList, nn.ModuleList, int]:
        last_dim = in_channels
        convs = nn.ModuleList()
        for i in range(num_convs):
            convs.append(ConvModule(last_dim if i == 0 else self.conv_out_channels,
                                    self.conv_out_channels, 3, padding=1,
                                    conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg))
        if num_convs > 0:
            last_dim = self.conv_out_channels
        fcs = nn.ModuleList()
        if num_fcs > 0:
            if (is_shared or self.num_shared_fcs == 0) and not self.with_avg_pool:
                last_dim *= self.roi_feat_area
            for i in range(num_fcs):
                fcs.append(nn.Linear(last_dim if i == 0 else self.fc_out_channels,
                                     self.fc_out_channels))
            last_dim = self.fc_out_channels
        return convs, fcs, last_dim

    def _branch(self, x: Tensor, convs: nn.ModuleList, fcs: nn.ModuleList) -> Tensor:
        for conv in convs:
            x = conv(x)
        if x.dim() > 2:
            if self.with_avg_pool:
                x = self.avg_pool(x)
            x = x.flatten(1)
        for fc in fcs:
            x = self.relu(fc(x))
        return x

    def forward(self, x: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """RoI features ``Tensor[K, C, h, w]`` -> ``cls_score[K, C+1]``, ``bbox_pred[K, 4*]``."""
        for conv in self.shared_convs:
            x = conv(x)
        if self.num_shared_fcs > 0:
            if self.with_avg_pool:
                x = self.avg_pool(x)
            x = x.flatten(1)
            for fc in self.shared_fcs:
                x = self.relu(fc(x))
        cls_score = (self.fc_cls(self._branch(x, self.cls_convs, self.cls_fcs))
                     if self.with_cls else None)
        bbox_pred = (self.fc_reg(self._branch(x, self.reg_convs, self.reg_fcs))
                     if self.with_reg else None)
        return cls_score, bbox_pred


@MODELS.register_module()
class Shared2FCBBoxHead(ConvFCBBoxHead):
    """Two shared fully connected layers (Faster R-CNN's default box head)."""

    def __init__(self, fc_out_channels: int = 1024, **kwargs: Any) -> None:
        super().__init__(num_shared_convs=0, num_shared_fcs=2, num_cls_convs=0, num_cls_fcs=0,
                         num_reg_convs=0, num_reg_fcs=0, fc_out_channels=fc_out_channels,
                         **kwargs)


@MODELS.register_module()
class Shared4Conv1FCBBoxHead(ConvFCBBoxHead):
    """Four shared 3x3 convs and one shared fully connected layer."""

    def __init__(self, fc_out_channels: int = 1024, **kwargs: Any) -> None:
        super().__init__(num_shared_convs=4, num_shared_fcs=1, num_cls_convs=0, num_cls_fcs=0,
                         num_reg_convs=0, num_reg_fcs=0, fc_out_channels=fc_out_channels,
                         **kwargs)
