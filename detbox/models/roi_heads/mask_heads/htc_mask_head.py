"""``HTCMaskHead``: an FCN mask head that also takes and gives the previous stage's features."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ....registry import MODELS
from ...layers import ConvModule
from .fcn_mask_head import FCNMaskHead


@MODELS.register_module()
class HTCMaskHead(FCNMaskHead):
    """Hybrid Task Cascade's mask head (mask information flow).

    The previous stage's conv features ``res_feat`` go through a 1x1 ``conv_res`` and are
    added to the RoI features before the convs.

    Args:
        with_conv_res: build ``conv_res`` (stages after the first).
        **kwargs: :class:`FCNMaskHead` arguments.
    """

    def __init__(self, with_conv_res: bool = True, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.with_conv_res = with_conv_res
        if with_conv_res:
            self.conv_res = ConvModule(self.conv_out_channels, self.conv_out_channels, 1,
                                       conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg)

    def forward(self, x: Tensor, res_feat: Tensor | None = None, return_logits: bool = True,
                return_feat: bool = True) -> Any:
        """``mask_pred`` and/or the conv features (a list of both when both are asked)."""
        if res_feat is not None:
            if not self.with_conv_res:
                raise ValueError("HTCMaskHead(with_conv_res=False) got res_feat")
            x = x + self.conv_res(res_feat)
        for conv in self.convs:
            x = conv(x)
        res_feat = x
        outs = []
        if return_logits:
            x = self.upsample(x)
            if self.upsample_method == "deconv":
                x = self.relu(x)
            outs.append(self.conv_logits(x))
        if return_feat:
            outs.append(res_feat)
        return outs if len(outs) > 1 else outs[0]
