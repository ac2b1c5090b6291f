"""mmcv's image read/write/show helpers on OpenCV."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detbox.datasets.transforms.functional import imfrombytes

__all__ = ["imread", "imwrite", "imshow", "bgr2rgb", "rgb2bgr"]


def imread(img_or_path: Any, flag: str = "color", channel_order: str = "bgr",
           backend: str | None = None) -> np.ndarray:
    """An image as a NumPy array: arrays pass through; paths are decoded with OpenCV.

    Raises:
        FileNotFoundError: naming the path, if it does not exist or is not an image.
    """
    if isinstance(img_or_path, np.ndarray):
        return img_or_path
    path = os.fspath(img_or_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"img file does not exist: {path}")
    with open(path, "rb") as fh:
        img = imfrombytes(fh.read(), flag=flag, channel_order=channel_order)
    if img is None:
        raise FileNotFoundError(f"could not decode image file: {path}")
    return img


def imwrite(img: np.ndarray, file_path: str | Path, params: list | None = None,
            auto_mkdir: bool = True) -> bool:
    """Write an image (format from the extension); creates the folder by default."""
    file_path = os.fspath(file_path)
    if auto_mkdir:
        os.makedirs(os.path.dirname(os.path.abspath(file_path)), exist_ok=True)
    ok, buf = cv2.imencode(os.path.splitext(file_path)[1] or ".png", img, params or [])
    if ok:
        buf.tofile(file_path)
    return bool(ok)


def imshow(img: Any, win_name: str = "", wait_time: int = 0) -> None:
    """Show an image in an OpenCV window (needs a display)."""
    cv2.imshow(win_name, imread(img))
    cv2.waitKey(wait_time)


def bgr2rgb(img: np.ndarray) -> np.ndarray:
    """BGR -> RGB."""
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def rgb2bgr(img: np.ndarray) -> np.ndarray:
    """RGB -> BGR."""
    return cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
