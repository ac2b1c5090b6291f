"""Reading the small files datasets are described by: name lists, json/pickle, image sizes."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

__all__ = ["list_from_file", "load_file", "read_image_size"]


def list_from_file(path: str | os.PathLike) -> list[str]:
    """Non-blank lines of a text file, stripped (class names, image ids of a split).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False) as f:
    ...     _ = f.write('cat\\n dog \\n\\n')
    >>> list_from_file(f.name)
    ['cat', 'dog']
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def load_file(path: str | os.PathLike) -> Any:
    """Load a ``.json`` or ``.pkl``/``.pickle`` file, with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON: {err}") from err
    if suffix in (".pkl", ".pickle"):
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except (pickle.UnpicklingError, EOFError) as err:
            raise ValueError(f"{path} is not a valid pickle file: {err}") from err
    raise ValueError(f"cannot read {path}: expected a .json or .pkl file, got '{suffix}'")


def read_image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(width, height)`` of an image file, reading only its header when Pillow is present."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        Image = None
    if Image is not None:
        try:
            with Image.open(path) as img:
                return int(img.size[0]), int(img.size[1])
        except OSError as err:
            raise ValueError(f"cannot read the size of image {path}: {err}") from err
    import cv2  # pragma: no cover

    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)  # pragma: no cover
    if img is None:  # pragma: no cover
        raise ValueError(f"cannot read the size of image {path}: not an image")
    return int(img.shape[1]), int(img.shape[0])  # pragma: no cover
