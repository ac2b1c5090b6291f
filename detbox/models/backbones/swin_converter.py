"""Convert checkpoints of the original Swin Transformer release to MMDetection v2's layout,
and fit loaded Swin weights to a model of other window or image sizes.

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

:func:`fit_state_dict` then adapts a backbone state_dict to a model: bias tables of another
window size and absolute position embeddings of another ``pretrain_img_size`` are resized
bicubically (MMDetection resizes the tables; the embedding it only reshapes), and the stored
``relative_position_index`` buffers are replaced by the model's own.
"""

from __future__ import annotations

import logging
import math
import re
from collections import OrderedDict

import torch.nn.functional as F
from torch import Tensor

__all__ = ["swin_converter", "unfold_order", "select_backbone_keys", "fit_state_dict",
           "fit_abs_pos_embed", "fit_bias_table"]

logger = logging.getLogger(__name__)

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


def select_backbone_keys(state: dict[str, Tensor], prefix: str | None,
                         source: str) -> OrderedDict[str, Tensor]:
    """The backbone's part of a checkpoint's state_dict.

    Args:
        state: the state_dict.
        prefix: keys to take (removed from the names); ``None``: ``'backbone.'`` when some key
            has it (MMDetection's rule), else the whole state_dict (a bare backbone's).
        source: the file, named in errors.

    Returns:
        The selected entries, without the prefix and without ``module.``.
    """
    wanted = prefix if prefix is not None else "backbone."
    if wanted and not wanted.endswith("."):
        wanted += "."
    if any(k.startswith(wanted) for k in state):
        state = OrderedDict((k[len(wanted):], v) for k, v in state.items()
                            if k.startswith(wanted))
    elif prefix is not None:
        heads = sorted({k.split(".", 1)[0] + "." for k in state})
        raise KeyError(f"{prefix} is not in the pretrained model {source}; its keys start "
                       f"with {', '.join(heads[:10]) or 'nothing'}")
    return OrderedDict((k[7:] if k.startswith("module.") else k, v) for k, v in state.items())


def fit_state_dict(state: dict[str, Tensor], own: dict[str, Tensor]) -> OrderedDict[str, Tensor]:
    """Fit a loaded Swin backbone state_dict to a model whose state_dict is ``own``.

    ``absolute_pos_embed`` ``[1, L, C]`` (original layout) becomes ``[1, C, H, W]``, resized
    bicubically when its grid differs; bias tables of another window size are resized
    bicubically (a different number of heads is skipped with a warning); stored
    ``relative_position_index`` buffers are replaced by the model's own (they depend only on
    the window size).
    """
    out: OrderedDict[str, Tensor] = OrderedDict(
        (k, v) for k, v in own.items() if k.endswith("relative_position_index"))
    for key, value in state.items():
        if key.endswith("relative_position_index"):
            continue
        if key == "absolute_pos_embed" and key in own:
            value = fit_abs_pos_embed(value, own[key])
        elif "relative_position_bias_table" in key and key in own:
            value = fit_bias_table(key, value, own[key])
        if value is not None:
            out[key] = value
    return out


def fit_abs_pos_embed(value: Tensor, target: Tensor) -> Tensor | None:
    """``value`` (``[1, L, C]`` row-major tokens or ``[1, C, h, w]``) as ``target``'s
    ``[1, C, H, W]``, bicubically resized if ``h, w != H, W``; ``None`` if it cannot fit."""
    _, channels, height, width = target.shape
    if value.dim() == 3:
        side = math.isqrt(value.shape[1])
        if value.shape[2] == channels and value.shape[1] == height * width:
            value = value.reshape(value.shape[0], height, width, channels).permute(0, 3, 1, 2)
        elif value.shape[2] == channels and side * side == value.shape[1]:
            value = value.reshape(value.shape[0], side, side, channels).permute(0, 3, 1, 2)
    if value.dim() != 4 or value.shape[1] != channels:
        logger.warning("absolute_pos_embed %s does not fit %s, not loaded",
                       tuple(value.shape), tuple(target.shape))
        return None
    if tuple(value.shape[2:]) != (height, width):
        logger.info("resize absolute_pos_embed from %s to %s (bicubic)",
                    tuple(value.shape[2:]), (height, width))
        value = F.interpolate(value.float(), size=(height, width), mode="bicubic",
                              align_corners=False)
    return value[:1].contiguous()


def fit_bias_table(key: str, value: Tensor, target: Tensor) -> Tensor | None:
    """A ``[(2w-1)^2, heads]`` bias table resized (bicubic) to ``target``'s rows; ``None``
    (with a warning) when the number of heads differs."""
    (len1, heads1), (len2, heads2) = value.shape, target.shape
    if heads1 != heads2:
        logger.warning("%s has %d heads in the checkpoint and %d in the model, not loaded",
                       key, heads1, heads2)
        return None
    if len1 == len2:
        return value
    side1, side2 = math.isqrt(len1), math.isqrt(len2)
    logger.info("resize %s from %d to %d rows (bicubic)", key, len1, len2)
    resized = F.interpolate(value.permute(1, 0).reshape(1, heads1, side1, side1).float(),
                            size=(side2, side2), mode="bicubic")
    return resized.view(heads2, len2).permute(1, 0).contiguous()
