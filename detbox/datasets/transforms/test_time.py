"""Test-time augmentation (``MultiScaleFlipAug``) and random policy choice (``AutoAugment``)."""

from __future__ import annotations

import copy
import logging
from typing import Any, Callable, Sequence

import numpy as np

from ...registry import TRANSFORMS
from .compose import Compose

logger = logging.getLogger(__name__)

__all__ = ["MultiScaleFlipAug", "AutoAugment"]


def _has_random_flip(transforms: Sequence[dict | Callable]) -> bool:
    for t in transforms:
        kind = t.get("type") if isinstance(t, dict) else type(t)
        name = kind if isinstance(kind, str) else getattr(kind, "__name__", "")
        if name == "RandomFlip":
            return True
    return False


@TRANSFORMS.register_module()
class MultiScaleFlipAug:
    """Run ``transforms`` once per (scale, flip) and return a dict of lists.

    The order is MMDetection v2's: for each scale, no flip first, then each flip
    direction. Each run starts from a shallow copy of ``results`` with ``scale`` (or
    ``scale_factor``), ``flip`` and ``flip_direction`` set, which ``Resize`` and
    ``RandomFlip`` read.

    Args:
        transforms: the per-augmentation pipeline (configs or callables).
        img_scale: a scale or a list of scales (``(long, short)`` tuples).
        scale_factor: a factor or a list of factors (instead of ``img_scale``).
        flip: add flipped copies.
        flip_direction: a direction or a list of them.

    Returns (from ``__call__``):
        ``dict`` mapping each output key to a list with one entry per augmentation.
    """

    def __init__(self, transforms: Sequence[dict | Callable], img_scale: Any = None,
                 scale_factor: float | list[float] | None = None, flip: bool = False,
                 flip_direction: str | list[str] = "horizontal") -> None:
        self.transforms = Compose(transforms)
        if (img_scale is None) == (scale_factor is None):
            raise ValueError("MultiScaleFlipAug: set exactly one of img_scale and scale_factor")
        if img_scale is not None:
            self.img_scale = img_scale if isinstance(img_scale, list) else [img_scale]
            self.scale_key = "scale"
            if not all(isinstance(s, tuple) for s in self.img_scale):
                raise ValueError(f"img_scale must be a tuple or a list of tuples, got {img_scale}")
        else:
            self.img_scale = scale_factor if isinstance(scale_factor, list) else [scale_factor]
            self.scale_key = "scale_factor"
        self.flip = flip
        self.flip_direction = flip_direction if isinstance(flip_direction, list) \
            else [flip_direction]
        if not all(isinstance(d, str) for d in self.flip_direction):
            raise ValueError(f"flip_direction must be a str or a list of str, got "
                             f"{flip_direction}")
        if not flip and self.flip_direction != ["horizontal"]:
            logger.warning("MultiScaleFlipAug: flip_direction has no effect when flip=False")
        if flip and not _has_random_flip(transforms):
            logger.warning("MultiScaleFlipAug: flip has no effect without RandomFlip in "
                           "transforms")

    def __call__(self, results: dict[str, Any]) -> dict[str, list]:
        flip_args: list[tuple[bool, str | None]] = [(False, None)]
        if self.flip:
            flip_args += [(True, d) for d in self.flip_direction]
        aug_data = []
        for scale in self.img_scale:
            for flip, direction in flip_args:
                _results = results.copy()
                _results[self.scale_key] = scale
                _results["flip"] = flip
                _results["flip_direction"] = direction
                aug_data.append(self.transforms(_results))
        out: dict[str, list] = {key: [] for key in aug_data[0]}
        for data in aug_data:
            for key, val in data.items():
                out[key].append(val)
        return out

    def __repr__(self) -> str:
        return (f"MultiScaleFlipAug(transforms={self.transforms!r}, img_scale={self.img_scale}, "
                f"flip={self.flip}, flip_direction={self.flip_direction})")


@TRANSFORMS.register_module()
class AutoAugment:
    """Apply one of ``policies`` (each a list of transform configs), chosen at random.

    DETR's configs use it to pick between resize-only and resize-crop-resize.

    Args:
        policies: a non-empty list of non-empty lists of transform configs.
    """

    def __init__(self, policies: list[list[dict]]) -> None:
        if not isinstance(policies, list) or not policies:
            raise ValueError("AutoAugment: policies must be a non-empty list")
        for policy in policies:
            if not isinstance(policy, list) or not policy:
                raise ValueError("AutoAugment: each policy must be a non-empty list")
            for aug in policy:
                if not isinstance(aug, dict) or "type" not in aug:
                    raise ValueError(f"AutoAugment: each augmentation must be a dict with "
                                     f"'type', got {aug!r}")
        self.policies = copy.deepcopy(policies)
        self.transforms = [Compose(p) for p in self.policies]

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        return self.transforms[np.random.choice(len(self.transforms))](results)

    def __repr__(self) -> str:
        return f"AutoAugment(policies={self.policies})"
