"""``AnchorFreeHead``: the base of point-based dense heads (FCOS and its kin), MMDetection v2's.

Two towers of ``stacked_convs`` 3x3 ``ConvModule``s (``cls_convs.i``, ``reg_convs.i``; the last
one deformable with ``dcn_on_last_conv``) feed a 3x3 classifier ``conv_cls`` and a 3x3
regressor ``conv_reg`` (4 distances per point). Points come from ``MlvlPointGenerator``.

Checkpoints of MMDetection before v2.0 named the predictors after the model (``fcos_cls``,
``fcos_reg``, ``fcos_centerness``); such keys are renamed on load when the state_dict carries no
version of this module (:meth:`AnchorFreeHead._load_from_state_dict`).
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import torch
from torch import Tensor, nn

from ...registry import MODELS, TASK_UTILS
from ..layers import ConvModule
from ..task_modules import MlvlPointGenerator
from ..utils import multi_apply
from .base_dense_head import BaseDenseHead

__all__ = ["AnchorFreeHead"]

logger = logging.getLogger(__name__)

_PREDICTOR_SUFFIXES = (("cls", "conv_cls"), ("reg", "conv_reg"), ("centerness", "conv_centerness"))


@MODELS.register_module()
class AnchorFreeHead(BaseDenseHead):
    """Anchor-free dense head: towers, a classifier and a distance regressor per point.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        feat_channels: channels of the towers.
        stacked_convs: 3x3 convs in each tower.
        strides: stride of each level (an int or a ``(w, h)`` pair).
        dcn_on_last_conv: make the last conv of each tower a modulated deformable conv.
        conv_bias: bias of the tower convs; ``'auto'``: only without a norm.
        loss_cls: classification loss config (default focal loss).
        loss_bbox: box loss config (default IoU loss).
        bbox_coder: box coder config (default ``DistancePointBBoxCoder``).
        conv_cfg: conv layer config of the towers.
        norm_cfg: norm layer config of the towers.
        train_cfg: training config (subclasses read it).
        test_cfg: ``nms_pre``, ``score_thr``, ``nms``, ``max_per_img``.
        init_cfg: initialisation (normal std 0.01; ``conv_cls`` bias for prior 0.01).
    """

    _version = 1

    def __init__(self, num_classes: int, in_channels: int, feat_channels: int = 256,
                 stacked_convs: int = 4, strides: Sequence[Any] = (4, 8, 16, 32, 64),
                 dcn_on_last_conv: bool = False, conv_bias: bool | str = "auto",
                 loss_cls: dict | None = None, loss_bbox: dict | None = None,
                 bbox_coder: dict | None = None, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = None, train_cfg: Any = None, test_cfg: Any = None,
                 init_cfg: dict | list | None = None) -> None:
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01,
                            override=dict(type="Normal", name="conv_cls", std=0.01,
                                          bias_prob=0.01))
        super().__init__(init_cfg)
        loss_cls = loss_cls or dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25,
                                    loss_weight=1.0)
        loss_bbox = loss_bbox or dict(type="IoULoss", loss_weight=1.0)
        bbox_coder = bbox_coder or dict(type="DistancePointBBoxCoder")
        if not (conv_bias == "auto" or isinstance(conv_bias, bool)):
            raise AssertionError(f"conv_bias must be 'auto' or a bool, got {conv_bias!r}")
        self.num_classes = num_classes
        self.use_sigmoid_cls = loss_cls.get("use_sigmoid", False)
        self.cls_out_channels = num_classes if self.use_sigmoid_cls else num_classes + 1
        self.in_channels = in_channels
        self.feat_channels = feat_channels
        self.stacked_convs = stacked_convs
        self.strides = strides
        self.dcn_on_last_conv = dcn_on_last_conv
        self.conv_bias = conv_bias
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.bbox_coder = TASK_UTILS.build(bbox_coder)
        self.prior_generator = MlvlPointGenerator(strides)
        self.num_base_priors = self.prior_generator.num_base_priors[0]
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.fp16_enabled = False
        self._init_layers()

    def _init_layers(self) -> None:
        self._init_cls_convs()
        self._init_reg_convs()
        self._init_predictor()

    def _tower(self) -> nn.ModuleList:
        convs = nn.ModuleList()
        for i in range(self.stacked_convs):
            channels = self.in_channels if i == 0 else self.feat_channels
            last = i == self.stacked_convs - 1
            conv_cfg = dict(type="DCNv2") if self.dcn_on_last_conv and last else self.conv_cfg
            convs.append(ConvModule(channels, self.feat_channels, 3, stride=1, padding=1,
                                    conv_cfg=conv_cfg, norm_cfg=self.norm_cfg,
                                    bias=self.conv_bias))
        return convs

    def _init_cls_convs(self) -> None:
        self.cls_convs = self._tower()

    def _init_reg_convs(self) -> None:
        self.reg_convs = self._tower()

    def _init_predictor(self) -> None:
        self.conv_cls = nn.Conv2d(self.feat_channels, self.cls_out_channels, 3, padding=1)
        self.conv_reg = nn.Conv2d(self.feat_channels, 4, 3, padding=1)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              strict: bool, missing_keys: list, unexpected_keys: list,
                              error_msgs: list) -> None:
        """Rename pre-v2.0 predictor keys (``fcos_cls`` -> ``conv_cls``, ``*_reg`` ->
        ``conv_reg``, ``*_centerness`` -> ``conv_centerness``) of an unversioned state_dict."""
        if local_metadata.get("version") is None:
            for key in [k for k in state_dict if k.startswith(prefix)]:
                name, dot, rest = key[len(prefix):].partition(".")
                if not dot or name in ("cls_convs", "reg_convs"):
                    continue
                for suffix, new_name in _PREDICTOR_SUFFIXES:
                    if name.endswith(suffix) and name != new_name:
                        new_key = f"{prefix}{new_name}.{rest}"
                        logger.debug("renamed %s to %s", key, new_key)
                        state_dict[new_key] = state_dict.pop(key)
                        break
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, feats: tuple[Tensor, ...]) -> tuple[list[Tensor], ...]:
        """Per level ``cls_score: Tensor[B, C, H, W]`` and ``bbox_pred: Tensor[B, 4, H, W]``."""
        return multi_apply(self.forward_single, feats)[:2]

    def forward_single(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Class scores, box distances and the two towers' last features of one level."""
        cls_feat = x
        for layer in self.cls_convs:
            cls_feat = layer(cls_feat)
        cls_score = self.conv_cls(cls_feat)
        reg_feat = x
        for layer in self.reg_convs:
            reg_feat = layer(reg_feat)
        bbox_pred = self.conv_reg(reg_feat)
        return cls_score, bbox_pred, cls_feat, reg_feat

    def loss(self, *args: Any, **kwargs: Any) -> dict:
        """Losses of the head (subclasses)."""
        raise NotImplementedError

    def get_targets(self, points: list[Tensor], gt_bboxes_list: list[Tensor],
                    gt_labels_list: list[Tensor]) -> Any:
        """Targets of every point (subclasses)."""
        raise NotImplementedError

    def get_points(self, featmap_sizes: list[tuple[int, int]], dtype: torch.dtype,
                   device: Any, flatten: bool = False) -> list[tuple[Tensor, Tensor]]:
        """Deprecated: ``(y, x)`` grid indices per level; use ``prior_generator.grid_priors``."""
        logger.warning("get_points is deprecated; use prior_generator.grid_priors")
        out = []
        for h, w in featmap_sizes:
            y, x = torch.meshgrid(torch.arange(h, device=device).to(dtype),
                                  torch.arange(w, device=device).to(dtype), indexing="ij")
            out.append((y.flatten(), x.flatten()) if flatten else (y, x))
        return out
