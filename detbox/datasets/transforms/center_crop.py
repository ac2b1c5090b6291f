"""``RandomCenterCropPad``: CornerNet / CenterNet's crop-and-pad around a random centre."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...registry import TRANSFORMS
from ._common import check_no_masks

__all__ = ["RandomCenterCropPad"]


@TRANSFORMS.register_module()
class RandomCenterCropPad:
    """Crop a ``crop_size * ratio`` window around a random centre, padding with the mean.

    Training: a ratio is drawn from ``ratios`` and a centre at least a border away from the
    edges (the border shrinks by powers of 2 for small images) until the window holds the
    centre of some box; boxes whose centres fall outside are dropped, the rest shifted and
    clipped. Testing (``test_mode``): the whole image is centred on a canvas whose sides are
    ``side | 127`` (``'logical_or'``) or rounded up to a multiple (``'size_divisor'``), and
    ``results['border']`` records where the image sits. Needs a float32 image
    (``LoadImageFromFile(to_float32=True)``).

    Args:
        crop_size: ``(h, w)`` of the window before scaling (training).
        ratios: window scale choices (training).
        border: minimum distance of the centre from the edges (training).
        mean, std, to_rgb: ``Normalize``'s settings; the canvas is filled with ``mean``.
        test_mode: use the test behaviour (``crop_size``, ``ratios``, ``border`` must be None).
        test_pad_mode: ``('logical_or', 127)`` or ``('size_divisor', n)``.
        test_pad_add_pix: extra pixels added to the test canvas (CenterNet).
        bbox_clip_border: clip boxes to the window.
    """

    def __init__(self, crop_size: Sequence[int] | None = None,
                 ratios: Sequence[float] | None = (0.9, 1.0, 1.1), border: int | None = 128,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
                 to_rgb: bool | None = None, test_mode: bool = False,
                 test_pad_mode: Sequence | None = ("logical_or", 127), test_pad_add_pix: int = 0,
                 bbox_clip_border: bool = True) -> None:
        if test_mode:
            if crop_size is not None or ratios is not None or border is not None:
                raise ValueError("RandomCenterCropPad: crop_size, ratios and border must be "
                                 "None in test mode")
            if not isinstance(test_pad_mode, (list, tuple)) or \
                    test_pad_mode[0] not in ("logical_or", "size_divisor"):
                raise ValueError(f"test_pad_mode must be ('logical_or', n) or "
                                 f"('size_divisor', n), got {test_pad_mode!r}")
        else:
            if not (isinstance(crop_size, (list, tuple)) and crop_size[0] > 0
                    and crop_size[1] > 0):
                raise ValueError(f"crop_size must be a positive (h, w) in train mode, got "
                                 f"{crop_size!r}")
            if not isinstance(ratios, (list, tuple)):
                raise ValueError(f"ratios must be a list or tuple, got {ratios!r}")
            if test_pad_mode is not None:
                raise ValueError("test_pad_mode must be None in train mode")
        if mean is None or std is None or to_rgb is None:
            raise ValueError("RandomCenterCropPad needs mean, std and to_rgb (use the same "
                             "values as Normalize)")
        self.crop_size = crop_size
        self.ratios = ratios
        self.border = border
        self.input_mean, self.input_std, self.to_rgb = mean, std, to_rgb
        self.mean = mean[::-1] if to_rgb else mean
        self.std = std[::-1] if to_rgb else std
        self.test_mode = test_mode
        self.test_pad_mode = test_pad_mode
        self.test_pad_add_pix = test_pad_add_pix
        self.bbox_clip_border = bbox_clip_border

    @staticmethod
    def _get_border(border: int, size: int) -> int:
        """``border`` halved until ``2 * border`` fits in ``size`` (as MMDetection)."""
        k = 2 * border / size
        i = pow(2, np.ceil(np.log2(np.ceil(k))) + (k == int(k)))
        return border // i

    @staticmethod
    def _filter_boxes(patch: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        center = (boxes[:, :2] + boxes[:, 2:]) / 2
        return ((center[:, 0] > patch[0]) & (center[:, 1] > patch[1])
                & (center[:, 0] < patch[2]) & (center[:, 1] < patch[3]))

    def _crop_image_and_paste(self, image: np.ndarray, center: Sequence[int],
                              size: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``size=(h, w)`` mean canvas with the image pasted around ``center=(y, x)``.

        Returns:
            ``(canvas, border [y1, y2, x1, x2] of the image on it, patch [x0, y0, x1, y1]
            taken from the image)``.
        """
        center_y, center_x = center
        target_h, target_w = size
        img_h, img_w, channels = image.shape
        x0, x1 = max(0, center_x - target_w // 2), min(center_x + target_w // 2, img_w)
        y0, y1 = max(0, center_y - target_h // 2), min(center_y + target_h // 2, img_h)
        patch = np.array((int(x0), int(y0), int(x1), int(y1)))
        left, right = center_x - x0, x1 - center_x
        top, bottom = center_y - y0, y1 - center_y
        cy, cx = target_h // 2, target_w // 2
        canvas = np.zeros((target_h, target_w, channels), dtype=image.dtype)
        for i in range(channels):
            canvas[:, :, i] += self.mean[i]
        canvas[cy - top:cy + bottom, cx - left:cx + right, :] = image[y0:y1, x0:x1, :]
        border = np.array([cy - top, cy + bottom, cx - left, cx + right], dtype=np.float32)
        return canvas, border, patch

    def _train_aug(self, results: dict) -> dict:
        img = results["img"]
        h, w = img.shape[:2]
        boxes = results["gt_bboxes"]
        while True:
            scale = np.random.choice(self.ratios)
            new_h = int(self.crop_size[0] * scale)
            new_w = int(self.crop_size[1] * scale)
            h_border = self._get_border(self.border, h)
            w_border = self._get_border(self.border, w)
            for _ in range(50):
                center_x = np.random.randint(low=w_border, high=w - w_border)
                center_y = np.random.randint(low=h_border, high=h - h_border)
                canvas, _, patch = self._crop_image_and_paste(img, [center_y, center_x],
                                                              [new_h, new_w])
                if not self._filter_boxes(patch, boxes).any() and len(boxes) > 0:
                    continue
                results["img"] = canvas
                results["img_shape"] = canvas.shape
                results["pad_shape"] = canvas.shape
                x0, y0 = patch[:2]
                shift_x = new_w // 2 - (center_x - x0) - x0
                shift_y = new_h // 2 - (center_y - y0) - y0
                for key in results.get("bbox_fields", []):
                    mask = self._filter_boxes(patch, results[key])
                    bboxes = results[key][mask]
                    bboxes[:, 0:4:2] += shift_x
                    bboxes[:, 1:4:2] += shift_y
                    if self.bbox_clip_border:
                        bboxes[:, 0:4:2] = np.clip(bboxes[:, 0:4:2], 0, new_w)
                        bboxes[:, 1:4:2] = np.clip(bboxes[:, 1:4:2], 0, new_h)
                    keep = (bboxes[:, 2] > bboxes[:, 0]) & (bboxes[:, 3] > bboxes[:, 1])
                    results[key] = bboxes[keep]
                    if key == "gt_bboxes" and "gt_labels" in results:
                        results["gt_labels"] = results["gt_labels"][mask][keep]
                return results

    def _test_aug(self, results: dict) -> dict:
        img = results["img"]
        h, w = img.shape[:2]
        results["img_shape"] = img.shape
        mode, value = self.test_pad_mode[0], self.test_pad_mode[1]
        if mode == "logical_or":
            target_h = (h | value) + self.test_pad_add_pix
            target_w = (w | value) + self.test_pad_add_pix
        else:
            target_h = int(np.ceil(h / value)) * value
            target_w = int(np.ceil(w / value)) * value
        canvas, border, _ = self._crop_image_and_paste(img, [h // 2, w // 2],
                                                       [target_h, target_w])
        results["img"] = canvas
        results["pad_shape"] = canvas.shape
        results["border"] = border
        return results

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        check_no_masks(results, "RandomCenterCropPad")
        img = results["img"]
        if img.dtype != np.float32:
            raise TypeError("RandomCenterCropPad needs a float32 image; set "
                            "to_float32=True in LoadImageFromFile")
        if img.shape[2] != len(self.mean):
            raise ValueError(f"RandomCenterCropPad: the image has {img.shape[2]} channels but "
                             f"mean has {len(self.mean)} values")
        return self._test_aug(results) if self.test_mode else self._train_aug(results)

    def __repr__(self) -> str:
        return (f"RandomCenterCropPad(crop_size={self.crop_size!r}, ratios={self.ratios!r}, "
                f"border={self.border!r}, mean={self.input_mean!r}, std={self.input_std!r}, "
                f"to_rgb={self.to_rgb!r}, test_mode={self.test_mode!r}, "
                f"test_pad_mode={self.test_pad_mode!r}, "
                f"test_pad_add_pix={self.test_pad_add_pix!r}, "
                f"bbox_clip_border={self.bbox_clip_border!r})")
