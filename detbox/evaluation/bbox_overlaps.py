"""NumPy IoU of ``xyxy`` boxes for the evaluators (MMDetection v2's evaluation variant).

It differs from :func:`detbox.ops.bbox_overlaps` in two ways v2's metrics depend on: it works
in float32 NumPy, and ``use_legacy_coordinate=True`` measures a box as ``x2 - x1 + 1`` wide
(the PASCAL VOC devkit's pixel convention).

>>> a = np.array([[0, 0, 10, 10]], dtype=np.float32)
>>> b = np.array([[5, 0, 15, 10], [20, 20, 30, 30]], dtype=np.float32)
>>> bbox_overlaps(a, b).astype(float).round(4).tolist()
[[0.3333, 0.0]]
>>> bbox_overlaps(a, b, use_legacy_coordinate=True).astype(float).round(4).tolist()
[[0.375, 0.0]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["bbox_overlaps"]


def bbox_overlaps(bboxes1: np.ndarray, bboxes2: np.ndarray, mode: str = "iou",
                  eps: float = 1e-6, use_legacy_coordinate: bool = False) -> np.ndarray:
    """Pairwise overlaps of two box sets.

    Args:
        bboxes1: ``ndarray[N, 4+]`` xyxy (extra columns, such as a score, are ignored).
        bboxes2: ``ndarray[M, 4+]`` xyxy.
        mode: ``'iou'`` or ``'iof'`` (intersection over the area of ``bboxes1``).
        eps: floor of the denominator.
        use_legacy_coordinate: widths and heights are ``x2 - x1 + 1`` and ``y2 - y1 + 1``.

    Returns:
        ``ndarray[N, M]`` float32.
    """
    if mode not in ("iou", "iof"):
        raise ValueError(f"mode must be 'iou' or 'iof', got {mode!r}")
    extra = 1.0 if use_legacy_coordinate else 0.0
    b1 = np.asarray(bboxes1, dtype=np.float32)
    b2 = np.asarray(bboxes2, dtype=np.float32)
    rows, cols = b1.shape[0], b2.shape[0]
    if rows * cols == 0:
        return np.zeros((rows, cols), dtype=np.float32)
    extra32 = np.float32(extra)
    area1 = (b1[:, 2] - b1[:, 0] + extra32) * (b1[:, 3] - b1[:, 1] + extra32)  # [N]
    area2 = (b2[:, 2] - b2[:, 0] + extra32) * (b2[:, 3] - b2[:, 1] + extra32)  # [M]
    x1 = np.maximum(b1[:, None, 0], b2[None, :, 0])  # [N, M]
    y1 = np.maximum(b1[:, None, 1], b2[None, :, 1])
    x2 = np.minimum(b1[:, None, 2], b2[None, :, 2])
    y2 = np.minimum(b1[:, None, 3], b2[None, :, 3])
    overlap = np.maximum(x2 - x1 + extra32, 0) * np.maximum(y2 - y1 + extra32, 0)
    if mode == "iou":
        denom = area1[:, None] + area2[None, :] - overlap
    else:
        denom = np.broadcast_to(area1[:, None], overlap.shape)
    denom = np.maximum(denom, np.float32(eps))
    return (overlap / denom).astype(np.float32, copy=False)
