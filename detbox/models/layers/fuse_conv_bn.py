"""Fold eval-mode BatchNorm into the convolution before it (mmcv's ``fuse_conv_bn``).

``y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta`` is one convolution with weight
``w * gamma / sqrt(var + eps)`` and bias ``(b - mean) * gamma / sqrt(var + eps) + beta``.

>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).eval()
>>> net[1].running_mean.uniform_(); net[1].running_var.uniform_(1, 2)  # doctest: +ELLIPSIS
tensor(...)
tensor(...)
>>> x = torch.randn(1, 3, 8, 8)
>>> ref = net(x)
>>> fused = fuse_conv_bn(net)
>>> type(fused[1]).__name__, torch.allclose(fused(x), ref, atol=1e-5)
('Identity', True)
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["fuse_conv_bn", "fuse_conv_bn_pair"]


def fuse_conv_bn_pair(conv: nn.Conv2d, bn: nn.modules.batchnorm._BatchNorm) -> nn.Conv2d:
    """Fold ``bn``'s running statistics and affine into ``conv`` (in place); returns ``conv``."""
    weight = conv.weight
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    gamma = bn.weight if bn.weight is not None else torch.ones_like(bn.running_mean)
    beta = bn.bias if bn.bias is not None else torch.zeros_like(bn.running_mean)
    factor = gamma / torch.sqrt(bn.running_var + bn.eps)  # [C_out]
    conv.weight = nn.Parameter(weight * factor.reshape(-1, *([1] * (weight.dim() - 1))))
    conv.bias = nn.Parameter((bias - bn.running_mean) * factor + beta)
    return conv


def fuse_conv_bn(module: nn.Module) -> nn.Module:
    """Fold every BatchNorm that directly follows a convolution among a module's children
    (recursively) into that convolution and replace it by ``nn.Identity``; returns ``module``.

    Use it on a model in eval mode for inference only (the folded model cannot be trained as
    before). Pairs are children registered one after the other, as in ``ConvModule``
    (``conv``, then ``bn``) and ``nn.Sequential``.
    """
    last_conv: tuple[str, nn.Conv2d] | None = None
    for name, child in list(module.named_children()):
        if isinstance(child, (nn.modules.batchnorm._BatchNorm, nn.SyncBatchNorm)):
            if last_conv is not None and child.track_running_stats:
                fuse_conv_bn_pair(last_conv[1], child)
                setattr(module, name, nn.Identity())
                last_conv = None
        elif isinstance(child, nn.Conv2d):
            last_conv = (name, child)
        else:
            fuse_conv_bn(child)
            last_conv = None
    return module
