"""Small helpers the heads share (MMDetection's ``multi_apply``, ``unmap``, level splitting)."""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial, wraps
from typing import Any, Callable

import torch
from torch import Tensor


def multi_apply(func: Callable, *args: Any, **kwargs: Any) -> tuple[list, ...]:
    """Apply ``func`` to each zipped item of ``args``; return a tuple of result lists.

    >>> multi_apply(lambda a, b: (a + b, a * b), [1, 2], [3, 4])
    ([4, 6], [3, 8])
    """
    pfunc = partial(func, **kwargs) if kwargs else func
    return tuple(map(list, zip(*map(pfunc, *args))))


def unmap(data: Tensor, count: int, inds: Tensor, fill: float = 0) -> Tensor:
    """Scatter ``data`` (rows of the ``inds`` mask/indices) back into a tensor of ``count`` rows."""
    if data.dim() == 1:
        ret = data.new_full((count,), fill)
        ret[inds.type(torch.bool)] = data
    else:
        ret = data.new_full((count,) + data.size()[1:], fill)
        ret[inds.type(torch.bool), :] = data
    return ret


def images_to_levels(targets: list[Tensor], num_levels: list[int]) -> list[Tensor]:
    """Per-image targets ``[Tensor[A_total, ...]] * B`` -> per-level ``Tensor[B, A_level, ...]``."""
    stacked = torch.stack(targets, 0)
    out, start = [], 0
    for n in num_levels:
        out.append(stacked[:, start:start + n])
        start += n
    return out


def select_single_mlvl(mlvl_tensors: list[Tensor], batch_id: int) -> list[Tensor]:
    """The ``batch_id``-th image of each level, detached."""
    return [t[batch_id].detach() for t in mlvl_tensors]


def anchor_inside_flags(flat_anchors: Tensor, valid_flags: Tensor, img_shape: tuple,
                        allowed_border: int = 0) -> Tensor:
    """Anchors ``Tensor[A, 4]`` that are valid and inside the image (plus ``allowed_border``).

    A negative ``allowed_border`` keeps every valid anchor.
    """
    img_h, img_w = img_shape[:2]
    if allowed_border < 0:
        return valid_flags
    return (valid_flags
            & (flat_anchors[:, 0] >= -allowed_border)
            & (flat_anchors[:, 1] >= -allowed_border)
            & (flat_anchors[:, 2] < img_w + allowed_border)
            & (flat_anchors[:, 3] < img_h + allowed_border))


def _to_float(value: Any) -> Any:
    if isinstance(value, Tensor) and value.is_floating_point() and value.dtype != torch.float32:
        return value.float()
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple
        return type(value)(*(_to_float(v) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_to_float(v) for v in value)
    return value


def force_fp32(func: Callable) -> Callable:
    """Run ``func`` in float32 with autocast off (losses, box decoding, NMS, RoI pooling).

    Floating tensors among the arguments (also inside lists and tuples) are cast to float32,
    as MMDetection's ``@force_fp32`` does under mixed precision; without autocast and with
    float32 inputs this is a no-op.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        devices = [d for d in ("cpu", "cuda") if torch.is_autocast_enabled(d)]
        if not devices:
            return func(*args, **kwargs)
        args = tuple(_to_float(a) for a in args)
        kwargs = {k: _to_float(v) for k, v in kwargs.items()}
        with ExitStack() as stack:
            for device in devices:
                stack.enter_context(torch.autocast(device, enabled=False))
            return func(*args, **kwargs)

    return wrapper
