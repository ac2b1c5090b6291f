"""``DynamicConv``: Sparse R-CNN's instance-interactive 1x1 convolutions (MMDetection 2.x)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from detbox.registry import LAYERS

from ...base_module import BaseModule
from ..activation import build_activation_layer
from ..norm import build_norm_layer

__all__ = ["DynamicConv"]

_RELU = {"type": "ReLU", "inplace": True}  # defaults (read only)
_LN = {"type": "LN"}


@LAYERS.register_module()
class DynamicConv(BaseModule):
    """Two 1x1 convolutions whose weights each proposal's feature generates.

    Args:
        in_channels: channels of the proposal and RoI features.
        feat_channels: channels between the two dynamic convolutions.
        out_channels: output channels; ``in_channels`` when ``None``.
        input_feat_shape: side of the RoI features.
        with_proj: flatten the result and project it to ``out_channels`` (``fc_layer``).
        act_cfg: activation config.
        norm_cfg: norm config (``LN``).
        init_cfg: initialisation config.
    """

    def __init__(self, in_channels: int = 256, feat_channels: int = 64,
                 out_channels: int | None = None, input_feat_shape: int = 7,
                 with_proj: bool = True, act_cfg: dict | None = _RELU,
                 norm_cfg: dict | None = _LN,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.feat_channels = feat_channels
        self.out_channels_raw = out_channels
        self.input_feat_shape = input_feat_shape
        self.with_proj = with_proj
        self.act_cfg = act_cfg
        self.norm_cfg = norm_cfg
        self.out_channels = out_channels if out_channels else in_channels
        self.num_params_in = self.in_channels * self.feat_channels
        self.num_params_out = self.out_channels * self.feat_channels
        self.dynamic_layer = nn.Linear(self.in_channels,
                                       self.num_params_in + self.num_params_out)
        self.norm_in = build_norm_layer(norm_cfg, self.feat_channels)[1]
        self.norm_out = build_norm_layer(norm_cfg, self.out_channels)[1]
        self.activation = build_activation_layer(act_cfg)
        if self.with_proj:
            self.fc_layer = nn.Linear(self.out_channels * input_feat_shape ** 2,
                                      self.out_channels)
            self.fc_norm = build_norm_layer(norm_cfg, self.out_channels)[1]

    def forward(self, param_feature: Tensor, input_feature: Tensor) -> Tensor:
        """Mix each RoI's features with its proposal's generated kernels.

        Args:
            param_feature: ``Tensor[N, in_channels]``, one per proposal.
            input_feature: ``Tensor[N, in_channels, H, W]``, the RoI features.

        Returns:
            ``Tensor[N, out_channels]`` with ``with_proj``, else ``[N, H*W, out_channels]``.
        """
        input_feature = input_feature.flatten(2).transpose(1, 2)  # [N, H*W, in]
        parameters = self.dynamic_layer(param_feature)
        param_in = parameters[:, :self.num_params_in].view(
            -1, self.in_channels, self.feat_channels)
        param_out = parameters[:, -self.num_params_out:].view(
            -1, self.feat_channels, self.out_channels)
        features = self.activation(self.norm_in(torch.bmm(input_feature, param_in)))
        features = self.activation(self.norm_out(torch.bmm(features, param_out)))
        if self.with_proj:
            features = self.activation(self.fc_norm(self.fc_layer(features.flatten(1))))
        return features
