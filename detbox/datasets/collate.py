"""``collate``: samples to a batch, as DEVELOPERS.md's data contract says (no DataContainer).

Training batch: ``img`` is one ``Tensor[B, C, Hmax, Wmax]``, each image zero-padded at the
bottom/right to the batch's largest; ``img_metas`` and every ``gt_*`` stay per-image lists.
Test batch (``img`` is a list, one entry per augmentation): ``img`` is a list of
``Tensor[B, C, H, W]`` and ``img_metas`` (and Fast R-CNN's ``proposals``) a list (per
augmentation) of per-image lists.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import default_collate

__all__ = ["collate", "pad_stack"]

# Keys whose tensors are padded and stacked (with the value they are padded with); every
# other key of a sample dict is kept as a per-image list.
STACKED_KEYS = {"img": 0, "gt_semantic_seg": 255}


def pad_stack(tensors: Sequence[torch.Tensor], pad_value: float = 0) -> torch.Tensor:
    """Stack ``[..., H_i, W_i]`` tensors into ``[B, ..., Hmax, Wmax]``, padding bottom/right.

    >>> pad_stack([torch.ones(1, 2, 3), torch.ones(1, 3, 2)]).shape
    torch.Size([2, 1, 3, 3])
    """
    if not tensors:
        raise ValueError("pad_stack needs at least one tensor")
    lead = tensors[0].shape[:-2]
    for i, t in enumerate(tensors):
        if t.dim() < 2 or t.shape[:-2] != lead:
            raise ValueError(f"cannot batch tensors of shapes {tensors[0].shape} and {t.shape} "
                             f"(sample {i}): only the last two dimensions may differ")
    h = max(t.shape[-2] for t in tensors)
    w = max(t.shape[-1] for t in tensors)
    if all(t.shape[-2:] == (h, w) for t in tensors):
        return torch.stack(list(tensors))
    return torch.stack([F.pad(t, (0, w - t.shape[-1], 0, h - t.shape[-2]), value=pad_value)
                        for t in tensors])


def _collate_key(key: str, values: list[Any]) -> Any:
    first = values[0]
    if key in STACKED_KEYS and isinstance(first, torch.Tensor):
        return pad_stack(values, STACKED_KEYS[key])
    if key in STACKED_KEYS and isinstance(first, list) \
            and all(isinstance(v, torch.Tensor) for v in first):
        num_aug = len(first)
        if any(len(v) != num_aug for v in values):
            raise ValueError(f"samples have different numbers of augmentations for '{key}': "
                             f"{[len(v) for v in values]}")
        return [pad_stack([v[a] for v in values], STACKED_KEYS[key]) for a in range(num_aug)]
    if key in ("img_metas", "proposals") and isinstance(first, list):  # test: per augmentation
        return [[v[a] for v in values] for a in range(len(first))]
    return list(values)


def collate(batch: Sequence[Any], samples_per_gpu: int = 1) -> Any:
    """Batch the samples of a :class:`~torch.utils.data.DataLoader`.

    Args:
        batch: the samples: pipeline output dicts (``img``, ``img_metas``, ``gt_*``...);
            anything else goes to torch's ``default_collate``.
        samples_per_gpu: kept for v2's signature; the whole batch is padded to one size.

    Returns:
        A dict with the same keys: ``img`` (and ``gt_semantic_seg``) stacked, everything else
        as per-image lists (per augmentation, then per image, at test time).
    """
    if not isinstance(batch, Sequence) or len(batch) == 0:
        raise TypeError(f"collate expects a non-empty list of samples, got {batch!r}")
    if not isinstance(batch[0], dict):
        return default_collate(list(batch))
    keys = list(batch[0])
    for i, sample in enumerate(batch):
        if not isinstance(sample, dict) or set(sample) != set(keys):
            got = sorted(sample) if isinstance(sample, dict) else type(sample).__name__
            raise ValueError(f"sample {i} of the batch has keys {got}, sample 0 has "
                             f"{sorted(keys)}; every sample must have the same keys")
    return {key: _collate_key(key, [sample[key] for sample in batch]) for key in keys}
