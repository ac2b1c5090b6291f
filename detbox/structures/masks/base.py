"""``BaseInstanceMasks``: the operations every instance-mask container offers (v2's API)."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Sequence

import numpy as np
import torch


class BaseInstanceMasks(metaclass=ABCMeta):
    """Masks of the ``N`` objects of one image of ``height x width`` pixels.

    Geometric methods return a new object and never change ``self``. Sizes are ``(h, w)``
    unless named otherwise; boxes are xyxy pixels.
    """

    height: int
    width: int

    @abstractmethod
    def __len__(self) -> int:
        """Number of objects."""

    @abstractmethod
    def __getitem__(self, index: Any) -> BaseInstanceMasks:
        """The masks at ``index`` (an int, a slice, an index array or list)."""

    @abstractmethod
    def rescale(self, scale: float | Sequence[int], interpolation: str = "nearest"
                ) -> BaseInstanceMasks:
        """As large as fits in ``scale`` (a factor or ``(long, short)``), aspect kept."""

    @abstractmethod
    def resize(self, out_shape: tuple[int, int], interpolation: str = "nearest"
               ) -> BaseInstanceMasks:
        """Resized to ``out_shape=(h, w)``."""

    @abstractmethod
    def flip(self, flip_direction: str = "horizontal") -> BaseInstanceMasks:
        """Flipped 'horizontal', 'vertical' or 'diagonal'."""

    @abstractmethod
    def pad(self, out_shape: tuple[int, int], pad_val: int = 0) -> BaseInstanceMasks:
        """Padded at the bottom/right to ``out_shape``."""

    @abstractmethod
    def crop(self, bbox: np.ndarray) -> BaseInstanceMasks:
        """Cropped to ``bbox = [x1, y1, x2, y2]`` (clipped to the image)."""

    @abstractmethod
    def crop_and_resize(self, bboxes: Any, out_shape: tuple[int, int], inds: Any,
                        device: Any = "cpu", interpolation: str = "bilinear",
                        binarize: bool = True) -> BaseInstanceMasks:
        """Mask ``inds[i]`` cropped to ``bboxes[i]`` and resized to ``out_shape`` (targets)."""

    @abstractmethod
    def expand(self, expanded_h: int, expanded_w: int, top: int, left: int
               ) -> BaseInstanceMasks:
        """Placed at ``(top, left)`` in a larger empty canvas (see ``Expand``)."""

    @abstractmethod
    def translate(self, out_shape: tuple[int, int], offset: float,
                  direction: str = "horizontal", fill_val: Any = 0,
                  interpolation: str = "bilinear") -> BaseInstanceMasks:
        """Moved by ``offset`` px along ``direction``."""

    @abstractmethod
    def shear(self, out_shape: tuple[int, int], magnitude: float,
              direction: str = "horizontal", border_value: Any = 0,
              interpolation: str = "bilinear") -> BaseInstanceMasks:
        """Sheared by ``magnitude`` along ``direction``."""

    @abstractmethod
    def rotate(self, out_shape: tuple[int, int], angle: float,
               center: tuple[float, float] | None = None, scale: float = 1.0,
               fill_val: Any = 0) -> BaseInstanceMasks:
        """Rotated by ``angle`` degrees (positive: counter-clockwise) about ``center``."""

    @property
    @abstractmethod
    def areas(self) -> np.ndarray:
        """Area of each mask, ``[N]``."""

    @abstractmethod
    def to_ndarray(self) -> np.ndarray:
        """Bitmaps ``[N, H, W]``."""

    @abstractmethod
    def to_tensor(self, dtype: torch.dtype, device: Any) -> torch.Tensor:
        """Bitmaps as a ``Tensor[N, H, W]``."""

    @abstractmethod
    def get_bboxes(self) -> np.ndarray:
        """Tight boxes ``float32[N, 4]`` of the masks."""

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_masks={len(self)}, height={self.height}, "
                f"width={self.width})")
