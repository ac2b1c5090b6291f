"""Test helper: a detbox ``SwinTransformer``'s weights in the original Swin release's layout.

The inverse of :func:`detbox.models.backbones.swin_converter.swin_converter`, written
independently (explicit index maps), so that tests can make fake release files
(``{'model': state_dict}``) whose converted load must reproduce a known model exactly.
"""

from __future__ import annotations

import torch

from detbox.models.backbones.swin import SwinTransformer


def to_original_merge_order(value: torch.Tensor) -> torch.Tensor:
    """Unfold order (c * 4 + p, p over (0,0), (0,1), (1,0), (1,1)) -> the original concat
    order (q * C + c, q over x0 = (0,0), x1 = (1,0), x2 = (0,1), x3 = (1,1))."""
    channels = value.shape[-1] // 4
    slot_of = {(0, 0): 0, (1, 0): 1, (0, 1): 2, (1, 1): 3}
    unfold_pos = [(0, 0), (0, 1), (1, 0), (1, 1)]
    out = torch.empty_like(value)
    for c in range(channels):
        for p, pos in enumerate(unfold_pos):
            out[..., slot_of[pos] * channels + c] = value[..., c * 4 + p]
    return out


def original_layout(net: SwinTransformer, num_classes: int = 1000) -> dict:
    """``net``'s weights named and ordered as the original Swin repository saves them, with
    its extra entries: ``attn_mask`` buffers, the final ``norm`` and the classifier ``head``."""
    out = {}
    for key, value in net.state_dict().items():
        if key.startswith("norm") and key[4].isdigit():
            continue  # the detection output norms do not exist in the release files
        new = key.replace("stages.", "layers.").replace("attn.w_msa.", "attn.")
        new = new.replace("ffn.layers.0.0.", "mlp.fc1.").replace("ffn.layers.1.", "mlp.fc2.")
        new = new.replace("patch_embed.projection.", "patch_embed.proj.")
        if ".downsample." in key:
            value = to_original_merge_order(value)
        out[new] = value.clone()
        if new.endswith("attn.relative_position_index"):
            n = value.shape[0]
            out[new.replace("attn.relative_position_index", "attn_mask")] = torch.zeros(4, n, n)
    channels = net.num_features[-1]
    out["norm.weight"] = torch.ones(channels)
    out["norm.bias"] = torch.zeros(channels)
    out["head.weight"] = torch.randn(num_classes, channels)
    out["head.bias"] = torch.zeros(num_classes)
    return out
