"""Rename an official PVT / PVTv2 checkpoint (github.com/whai362/PVT) to MMDetection's layout.

The official layout (stage ``s`` in 1..4, block ``b``):

- ``patch_embed{s}.proj.*`` / ``patch_embed{s}.norm.*`` -> ``layers.{s-1}.0.projection.*`` /
  ``layers.{s-1}.0.norm.*``;
- ``pos_embed{s}`` ``(1, L, C)`` -> ``layers.{s-1}.1.0.pos_embed`` (stage 4's class token, when
  it has ``1 + 7 * 7`` entries, is dropped);
- ``block{s}.{b}.attn.q.*`` and ``attn.kv.*`` -> ``layers.{s-1}.1.{b'}.attn.attn.in_proj_*``
  (concatenated: q then kv); ``attn.proj.*`` -> ``attn.attn.out_proj.*``; ``attn.sr`` /
  ``attn.norm`` keep their names; ``b' = b + 1`` when the model has position embeddings
  (they take index 0 of the stage's ``ModuleList``);
- ``block{s}.{b}.mlp.fc1`` / ``mlp.dwconv.dwconv`` / ``mlp.fc2`` -> ``ffn.layers.0`` / ``1`` /
  ``4`` (``3`` without the depthwise conv); linear weights ``(out, in)`` become 1x1 conv
  weights ``(out, in, 1, 1)``;
- ``norm{s}.*`` (PVTv2's per-stage norms) -> ``layers.{s-1}.2.*``;
- ``head.*``, ``cls_token`` and the final ``norm.*`` are dropped.

Keys already in MMDetection's layout (``layers.*``) pass through unchanged.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor

__all__ = ["pvt_convert"]


def _block_key(key: str, value: Tensor, ckpt: dict, use_abs_pos_embed: bool,
               use_conv_ffn: bool) -> tuple[str, Tensor] | None:
    head, layer, rest = key.split(".", 2)
    stage = int(head[len("block"):])
    new_key = f"layers.{stage - 1}.1.{int(layer) + use_abs_pos_embed}.{rest}"
    if rest.startswith("attn.q."):
        kv = ckpt[f"{head}.{layer}.attn.kv.{rest[len('attn.q.'):]}"]
        return new_key.replace("attn.q.", "attn.attn.in_proj_"), torch.cat([value, kv], dim=0)
    if rest.startswith("attn.kv."):
        return None  # joined into in_proj_* with attn.q
    if rest.startswith("attn.proj."):
        return new_key.replace("attn.proj.", "attn.attn.out_proj."), value
    if rest.startswith("mlp."):
        if rest in ("mlp.fc1.weight", "mlp.fc2.weight"):
            value = value.reshape(*value.shape, 1, 1)
        new_key = new_key.replace("mlp.", "ffn.layers.").replace("fc1.", "0.")
        new_key = new_key.replace("dwconv.dwconv.", "1.")
        new_key = new_key.replace("fc2.", "4." if use_conv_ffn else "3.")
    return new_key, value


def pvt_convert(ckpt: dict[str, Tensor]) -> OrderedDict[str, Tensor]:
    """An official PVT / PVTv2 state_dict renamed to MMDetection's (see the module docstring).

    Args:
        ckpt: the official checkpoint's state_dict (``model`` entry already taken out).

    Returns:
        The converted state_dict (keys in the input's order).
    """
    use_abs_pos_embed = any(k.startswith("pos_embed") for k in ckpt)
    use_conv_ffn = any("dwconv" in k for k in ckpt)
    out: OrderedDict[str, Tensor] = OrderedDict()
    for key, value in ckpt.items():
        if key.startswith(("head", "norm.", "cls_token")):
            continue
        if key.startswith("pos_embed"):
            stage = int(key[len("pos_embed"):])
            if stage == 4 and value.size(1) == 50:  # 1 class token + 7 * 7
                value = value[:, 1:, :]
            out[f"layers.{stage - 1}.1.0.pos_embed"] = value
        elif key.startswith("patch_embed"):
            head, rest = key.split(".", 1)
            stage = int(head[len("patch_embed"):])
            new_key = f"layers.{stage - 1}.0.{rest}"
            out[new_key.replace("proj.", "projection.")] = value
        elif key.startswith("block"):
            item = _block_key(key, value, ckpt, use_abs_pos_embed, use_conv_ffn)
            if item is not None:
                out[item[0]] = item[1]
        elif key.startswith("norm"):
            stage = int(key[4])
            out[f"layers.{stage - 1}.2{key[5:]}"] = value
        else:
            out[key] = value
    return out
