"""Convert checkpoints of the original Swin Transformer release to MMDetection v2's layout.

The files published with the Swin paper (``swin_tiny_patch4_window7_224.pth``,
``swin_large_patch4_window12_384_22k.pth``, ...) hold ``{'model': state_dict}`` named as the
original repository names its modules. :func:`swin_converter` maps them to the names of
:class:`detbox.models.backbones.swin.SwinTransformer` under ``backbone.`` (MMDetection's
``swin_converter`` does the same):

==========================================  ==============================================
original                                    detbox / MMDetection
==========================================  ==============================================
``patch_embed.proj.*``                      ``patch_embed.projection.*``
``patch_embed.norm.*``, ``absolute_pos_embed``  unchanged
``layers.N.blocks.M.norm1|norm2.*``         ``stages.N.blocks.M.norm1|norm2.*``
``layers.N.blocks.M.attn.*``                ``stages.N.blocks.M.attn.w_msa.*``
``layers.N.blocks.M.mlp.fc1.*``             ``stages.N.blocks.M.ffn.layers.0.0.*``
``layers.N.blocks.M.mlp.fc2.*``             ``stages.N.blocks.M.ffn.layers.1.*``
``layers.N.downsample.reduction|norm.*``    ``stages.N.downsample.reduction|norm.*`` (re-ordered)
``head.*``                                  dropped (ImageNet classifier)
``*.relative_position_index``, ``*.attn_mask``  dropped (buffers the model recomputes)
``norm.*``                                  kept as ``backbone.norm.*`` (unused by detection)
==========================================  ==============================================

Patch merging: the original concatenates the four neighbours of a 2x2 group as
``[x(0,0), x(1,0), x(0,1), x(1,1)]`` (each ``C`` channels), MMDetection's ``nn.Unfold`` gives
channel-major order with positions ``(0,0), (0,1), (1,0), (1,1)``. The ``4C`` input features of
``reduction.weight`` and of the ``norm`` are permuted accordingly: feature ``c * 4 + p`` of
MMDetection is feature ``q * C + c`` of the original, where position ``p`` in unfold order is
position ``q = [0, 2, 1, 3][p]`` in the original order.
"""

from __future__ import annotations

import re
from collections import OrderedDict

from torch import Tensor

__all__ = ["swin_converter", "unfold_order"]

# unfold position p (row-major (0,0), (0,1), (1,0), (1,1)) -> original concatenation slot
_UNFOLD_TO_ORIGINAL = [0, 2, 1, 3]

_RENAMES = [
    (re.compile(r"^layers\.(\d+)\.blocks\.(\d+)\.attn\."), r"stages.\1.blocks.\2.attn.w_msa."),
    (re.compile(r"^layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc1\."),
     r"stages.\1.blocks.\2.ffn.layers.0.0."),
    (re.compile(r"^layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc2\."),
     r"stages.\1.blocks.\2.ffn.layers.1."),
    (re.compile(r"^layers\.(\d+)\."), r"stages.\1."),
    (re.compile(r"^patch_embed\.proj\."), "patch_embed.projection."),
]


def unfold_order(value: Tensor) -> Tensor:
    """Permute the last dimension (``4C`` merged features) from the original Swin
    concatenation order to ``nn.Unfold``'s order (see the module docstring).

    >>> import torch
    >>> unfold_order(torch.arange(8.)).tolist()  # C = 2: original [a0 a1 | b0 b1 | c0 c1 | d0 d1]
    [0.0, 4.0, 2.0, 6.0, 1.0, 5.0, 3.0, 7.0]
    """
    *lead, features = value.shape
    if features % 4:
        raise ValueError(f"patch merging features must be a multiple of 4, got {features}")
    grouped = value.reshape(*lead, 4, features // 4)[..., _UNFOLD_TO_ORIGINAL, :]  # [.., 4, C]
    return grouped.transpose(-1, -2).reshape(*lead, features)


def swin_converter(state_dict: dict[str, Tensor]) -> OrderedDict[str, Tensor]:
    """A state_dict of the original Swin release renamed (``backbone.`` + MMDetection name).

    Args:
        state_dict: the release file's ``model`` entry.

    Returns:
        The converted state_dict, every key under ``backbone.``.
    """
    out: OrderedDict[str, Tensor] = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith("head") or key.endswith(("relative_position_index", "attn_mask")):
            continue
        new = key
        for pattern, repl in _RENAMES:
            new, hits = pattern.subn(repl, new)
            if hits:
                break
        if ".downsample." in new and new.startswith("stages."):
            if ".reduction." in new or ".norm." in new:
                value = unfold_order(value)
        out["backbone." + new] = value
    return out
