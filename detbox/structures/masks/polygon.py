"""``PolygonMasks``: instance masks as polygons (compact; MMDetection v2's class).

``masks`` has three levels: objects, the polygons of an object, each polygon's flat
``[x0, y0, x1, y1, ...]`` coordinates (an ndarray). Geometric operations move coordinates;
bitmaps are made only by :meth:`to_ndarray` (pycocotools rasterisation).

>>> m = PolygonMasks([[np.array([0., 0., 10., 0., 10., 10., 0., 10.])]], 16, 16)
>>> m.translate((16, 16), 4.).masks[0][0][0::2].tolist()
[4.0, 14.0, 14.0, 4.0]
>>> float(m.areas[0])
100.0
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

from .base import BaseInstanceMasks
from .bitmap import BitmapMasks
from .functional import polygon_to_bitmap, rescale_size, rotation_matrix

__all__ = ["PolygonMasks"]


class PolygonMasks(BaseInstanceMasks):
    """Masks of ``N`` objects as polygons.

    Args:
        masks: ``list[list[ndarray]]`` (objects, polygons, flat coordinates).
        height, width: the image size.
    """

    def __init__(self, masks: list[list[np.ndarray]], height: int, width: int) -> None:
        if not isinstance(masks, list):
            raise TypeError(f"PolygonMasks takes a list (objects) of lists (polygons) of "
                            f"ndarrays, got {type(masks).__name__}")
        if masks and not (isinstance(masks[0], list) and masks[0]
                          and isinstance(masks[0][0], np.ndarray)):
            if not (isinstance(masks[0], list) and not masks[0]):
                raise TypeError("PolygonMasks takes a list (objects) of lists (polygons) of "
                                "flat coordinate ndarrays")
        self.height = height
        self.width = width
        self.masks = masks

    def __getitem__(self, index: Any) -> PolygonMasks:
        if isinstance(index, np.ndarray):
            index = index.tolist()
        if isinstance(index, list):
            masks = [self.masks[i] for i in index]
        else:
            try:
                masks = self.masks[index]
            except Exception as err:
                raise ValueError(f"Unsupported input of type {type(index)} for indexing!") \
                    from err
        if len(masks) and isinstance(masks[0], np.ndarray):
            masks = [masks]  # one object: keep three levels
        return PolygonMasks(masks, self.height, self.width)

    def __iter__(self):
        return iter(self.masks)

    def __len__(self) -> int:
        return len(self.masks)

    def _map(self, fn: Callable[[np.ndarray], np.ndarray], height: int,
             width: int) -> PolygonMasks:
        """Apply ``fn`` to a copy of every polygon."""
        return PolygonMasks([[fn(p.copy()) for p in obj] for obj in self.masks], height, width)

    def rescale(self, scale: float | Sequence[int], interpolation: Any = None) -> PolygonMasks:
        new_w, new_h = rescale_size((self.width, self.height), scale)
        if len(self.masks) == 0:
            return PolygonMasks([], new_h, new_w)
        return self.resize((new_h, new_w))

    def resize(self, out_shape: tuple[int, int], interpolation: Any = None) -> PolygonMasks:
        if len(self.masks) == 0:
            return PolygonMasks([], *out_shape)
        h_scale = out_shape[0] / self.height
        w_scale = out_shape[1] / self.width

        def fn(p: np.ndarray) -> np.ndarray:
            p[0::2] = p[0::2] * w_scale
            p[1::2] = p[1::2] * h_scale
            return p
        return self._map(fn, *out_shape)

    def flip(self, flip_direction: str = "horizontal") -> PolygonMasks:
        if flip_direction not in ("horizontal", "vertical", "diagonal"):
            raise ValueError(f"flip direction must be 'horizontal', 'vertical' or 'diagonal', "
                             f"got {flip_direction!r}")
        if len(self.masks) == 0:
            return PolygonMasks([], self.height, self.width)

        def fn(p: np.ndarray) -> np.ndarray:
            if flip_direction in ("horizontal", "diagonal"):
                p[0::2] = self.width - p[0::2]
            if flip_direction in ("vertical", "diagonal"):
                p[1::2] = self.height - p[1::2]
            return p
        return self._map(fn, self.height, self.width)

    def crop(self, bbox: np.ndarray) -> PolygonMasks:
        """Shift by the clipped box's corner; rasterisation clips to the new size."""
        if not (isinstance(bbox, np.ndarray) and bbox.ndim == 1):
            raise TypeError(f"crop needs an ndarray [x1, y1, x2, y2], got {bbox!r}")
        bbox = bbox.copy()
        bbox[0::2] = np.clip(bbox[0::2], 0, self.width)
        bbox[1::2] = np.clip(bbox[1::2], 0, self.height)
        x1, y1, x2, y2 = bbox
        w = np.maximum(x2 - x1, 1)
        h = np.maximum(y2 - y1, 1)
        if len(self.masks) == 0:
            return PolygonMasks([], h, w)

        def fn(p: np.ndarray) -> np.ndarray:
            p[0::2] = p[0::2] - bbox[0]
            p[1::2] = p[1::2] - bbox[1]
            return p
        return self._map(fn, h, w)

    def pad(self, out_shape: tuple[int, int], pad_val: int = 0) -> PolygonMasks:
        """Padding only changes the canvas size."""
        return PolygonMasks(self.masks, *out_shape)

    def expand(self, *args: Any, **kwargs: Any) -> PolygonMasks:
        raise NotImplementedError("PolygonMasks.expand is not implemented (as in MMDetection); "
                                  "use LoadAnnotations(poly2mask=True) with Expand")

    def crop_and_resize(self, bboxes: Any, out_shape: tuple[int, int], inds: Any,
                        device: Any = "cpu", interpolation: str = "bilinear",
                        binarize: bool = True) -> PolygonMasks:
        """Polygons of object ``inds[i]`` moved into box ``bboxes[i]`` scaled to ``out_shape``."""
        out_h, out_w = out_shape
        if len(self.masks) == 0:
            return PolygonMasks([], out_h, out_w)
        if not binarize:
            raise ValueError("Polygons are always binary, setting binarize=False is unsupported")
        out = []
        for i in range(len(bboxes)):
            bbox = bboxes[i, :]
            x1, y1, x2, y2 = bbox
            # float64 scales, as MMDetection computes them under NumPy 1 (its supported NumPy)
            w = float(np.maximum(x2 - x1, 1))
            h = float(np.maximum(y2 - y1, 1))
            h_scale = out_h / max(h, 0.1)
            w_scale = out_w / max(w, 0.1)
            polys = []
            for p in self.masks[inds[i]]:
                p = p.copy()
                p[0::2] = p[0::2] - bbox[0]
                p[1::2] = p[1::2] - bbox[1]
                p[0::2] = p[0::2] * w_scale
                p[1::2] = p[1::2] * h_scale
                polys.append(p)
            out.append(polys)
        return PolygonMasks(out, *out_shape)

    def translate(self, out_shape: tuple[int, int], offset: float,
                  direction: str = "horizontal", fill_val: Any = None,
                  interpolation: Any = None) -> PolygonMasks:
        """Coordinates moved by ``offset`` and clipped to ``out_shape``."""
        if not (fill_val is None or fill_val == 0):
            raise ValueError(f"PolygonMasks.translate does not use fill_val; it must be None "
                             f"or 0, got {fill_val}")
        if len(self.masks) == 0:
            return PolygonMasks([], *out_shape)

        def fn(p: np.ndarray) -> np.ndarray:
            if direction == "horizontal":
                p[0::2] = np.clip(p[0::2] + offset, 0, out_shape[1])
            elif direction == "vertical":
                p[1::2] = np.clip(p[1::2] + offset, 0, out_shape[0])
            return p
        return self._map(fn, *out_shape)

    def shear(self, out_shape: tuple[int, int], magnitude: float,
              direction: str = "horizontal", border_value: Any = 0,
              interpolation: str = "bilinear") -> PolygonMasks:
        """Coordinates through the float32 shear matrix, clipped to ``out_shape``."""
        if len(self.masks) == 0:
            return PolygonMasks([], *out_shape)
        if direction == "horizontal":
            matrix = np.stack([[1, magnitude], [0, 1]]).astype(np.float32)
        elif direction == "vertical":
            matrix = np.stack([[1, 0], [magnitude, 1]]).astype(np.float32)
        else:
            raise ValueError(f"direction must be 'horizontal' or 'vertical', got {direction!r}")

        def fn(p: np.ndarray) -> np.ndarray:
            coords = matrix @ np.stack([p[0::2], p[1::2]], axis=0)  # [2, n]
            coords[0] = np.clip(coords[0], 0, out_shape[1])
            coords[1] = np.clip(coords[1], 0, out_shape[0])
            return coords.T.reshape(-1)
        return self._map(fn, *out_shape)

    def rotate(self, out_shape: tuple[int, int], angle: float,
               center: tuple[float, float] | None = None, scale: float = 1.0,
               fill_val: Any = 0) -> PolygonMasks:
        """Coordinates through OpenCV's rotation matrix, clipped to ``out_shape``."""
        if len(self.masks) == 0:
            return PolygonMasks([], *out_shape)
        matrix = rotation_matrix(center, angle, scale)

        def fn(p: np.ndarray) -> np.ndarray:
            coords = np.stack([p[0::2], p[1::2]], axis=1)  # [n, 2]
            coords = np.concatenate((coords, np.ones((len(coords), 1), coords.dtype)), axis=1)
            out = np.matmul(matrix[None], coords[:, :, None])[..., 0]  # [n, 2]
            out[:, 0] = np.clip(out[:, 0], 0, out_shape[1])
            out[:, 1] = np.clip(out[:, 1], 0, out_shape[0])
            return out.reshape(-1)
        return self._map(fn, *out_shape)

    def to_bitmap(self) -> BitmapMasks:
        """The rasterised masks as :class:`BitmapMasks`."""
        return BitmapMasks(self.to_ndarray(), self.height, self.width)

    @property
    def areas(self) -> np.ndarray:
        """Shoelace area of each object (sum over its polygons)."""
        out = []
        for obj in self.masks:
            area = 0
            for p in obj:
                x, y = p[0::2], p[1::2]
                area += 0.5 * np.abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
            out.append(area)
        return np.asarray(out)

    def to_ndarray(self) -> np.ndarray:
        """``bool[N, H, W]`` rasterised as pycocotools does."""
        if len(self.masks) == 0:
            return np.empty((0, self.height, self.width), dtype=np.uint8)
        return np.stack([polygon_to_bitmap(obj, self.height, self.width) for obj in self.masks])

    def to_tensor(self, dtype: torch.dtype, device: Any) -> torch.Tensor:
        if len(self.masks) == 0:
            return torch.empty((0, self.height, self.width), dtype=dtype, device=device)
        return torch.tensor(self.to_ndarray(), dtype=dtype, device=device)

    def get_bboxes(self) -> np.ndarray:
        """``float32[N, 4]``: min and max of each object's coordinates."""
        boxes = np.zeros((len(self), 4), dtype=np.float32)
        for i, obj in enumerate(self.masks):
            xy_min = np.array([self.width * 2, self.height * 2], dtype=np.float32)
            xy_max = np.zeros(2, dtype=np.float32)
            for p in obj:
                xy = np.array(p).reshape(-1, 2).astype(np.float32)
                xy_min = np.minimum(xy_min, xy.min(axis=0))
                xy_max = np.maximum(xy_max, xy.max(axis=0))
            boxes[i, :2] = xy_min
            boxes[i, 2:] = xy_max
        return boxes
