"""Run a detector on an image, a folder of images or a video, and draw what it finds.

The logic behind ``demo/image_demo.py``: images go through :func:`inference_detector` in
batches (a video's frames too), and each result is drawn with :func:`show_result` using the
model's class names.

>>> source_kind('a/b.MP4'), source_kind('a/b.png')
('video', 'image')
"""

from __future__ import annotations

import logging
import os
import os.path as osp
from typing import Any, Iterator, Sequence

import cv2
import numpy as np
from torch import nn

from .inference import inference_detector, show_result

logger = logging.getLogger(__name__)

__all__ = ["IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "source_kind", "list_images", "draw_result",
           "detect_images", "detect_video", "run_demo"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
# The writer's codec for an output video, by extension (others get mp4v).
_FOURCC = {".avi": "MJPG", ".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v"}


def source_kind(path: str | os.PathLike) -> str:
    """``'folder'``, ``'video'`` or ``'image'``: what :func:`run_demo` makes of ``path``."""
    path = os.fspath(path)
    if osp.isdir(path):
        return "folder"
    return "video" if osp.splitext(path)[1].lower() in VIDEO_EXTENSIONS else "image"


def list_images(folder: str | os.PathLike) -> list[str]:
    """The image files directly in ``folder`` (by extension), sorted by name."""
    folder = os.fspath(folder)
    if not osp.isdir(folder):
        raise FileNotFoundError(f"image folder not found: {folder}")
    names = sorted(n for n in os.listdir(folder)
                   if osp.splitext(n)[1].lower() in IMAGE_EXTENSIONS
                   and osp.isfile(osp.join(folder, n)))
    return [osp.join(folder, n) for n in names]


def draw_result(model: nn.Module, img: str | np.ndarray, result: list[np.ndarray],
                score_thr: float = 0.3, out_file: str | None = None,
                palette: Any = "random") -> np.ndarray:
    """Draw one image's detections with the model's class names.

    Args:
        model: the detector (its ``CLASSES`` name the labels).
        img: a BGR image or its path.
        result: a list over classes of ``float32[n, 5]`` (``x1, y1, x2, y2, score``).
        score_thr: hide detections scoring at most this.
        out_file: also write the drawing here.
        palette: box and text colours (see :func:`detbox.visualization.get_palette`).

    Returns:
        The drawn BGR image.
    """
    return show_result(img, result, class_names=getattr(model, "CLASSES", None),
                       score_thr=score_thr, bbox_color=palette, text_color=palette,
                       out_file=out_file)


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _progress(total: int | None, desc: str, unit: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled)


def detect_images(model: nn.Module, paths: Sequence[str], out_dir: str, score_thr: float = 0.3,
                  batch_size: int = 4, palette: Any = "random", progress: bool = True
                  ) -> list[str]:
    """Detect and draw each image into ``out_dir`` under its own file name.

    Args:
        model: the detector from :func:`init_detector`.
        paths: image files.
        out_dir: folder for the drawings (made if needed).
        score_thr: hide detections scoring at most this.
        batch_size: images per :func:`inference_detector` call.
        palette: box and text colours.
        progress: show a progress bar.

    Returns:
        The written files, in the order of ``paths``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    with _progress(len(paths), "images", "img", progress) as bar:
        for batch in _batches(list(paths), batch_size):
            images = []
            for path in batch:
                img = cv2.imread(path, cv2.IMREAD_COLOR)
                if img is None:
                    raise FileNotFoundError(f"cannot read image {path}: missing, unreadable or "
                                            f"not an image")
                images.append(img)
            for path, img, result in zip(batch, images, inference_detector(model, images)):
                out_file = osp.join(out_dir, osp.basename(path))
                draw_result(model, img, result, score_thr, out_file, palette)
                written.append(out_file)
            bar.update(len(batch))
    return written


def _frames(cap: cv2.VideoCapture, size: int) -> Iterator[list[np.ndarray]]:
    batch: list[np.ndarray] = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def detect_video(model: nn.Module, path: str, out_file: str, score_thr: float = 0.3,
                 batch_size: int = 4, palette: Any = "random", progress: bool = True) -> int:
    """Detect objects in every frame of a video and write the drawn frames as a video.

    The output keeps the input's frame size and rate; its codec follows its extension
    (``.avi``: MJPG, otherwise mp4v).

    Args:
        model: the detector from :func:`init_detector`.
        path: the input video (anything OpenCV reads).
        out_file: the output video.
        score_thr: hide detections scoring at most this.
        batch_size: frames per :func:`inference_detector` call.
        palette: box and text colours.
        progress: show a progress bar.

    Returns:
        The number of frames written.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if not osp.isfile(path):
        raise FileNotFoundError(f"video file not found: {path}")
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise OSError(f"cannot open video {path} with OpenCV")
    writer = None
    count = 0
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        with _progress(total, "frames", "frame", progress) as bar:
            for frames in _frames(cap, batch_size):
                if writer is None:
                    writer = _open_writer(out_file, fps, frames[0].shape[1], frames[0].shape[0])
                for frame, result in zip(frames, inference_detector(model, frames)):
                    writer.write(draw_result(model, frame, result, score_thr, None, palette))
                count += len(frames)
                bar.update(len(frames))
    finally:
        cap.release()
        if writer is not None:
            writer.release()
    if count == 0:
        raise ValueError(f"no frames could be read from video {path}")
    logger.info("wrote %d frames to %s", count, out_file)
    return count


def _open_writer(out_file: str, fps: float, width: int, height: int) -> cv2.VideoWriter:
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    codec = _FOURCC.get(osp.splitext(out_file)[1].lower(), "mp4v")
    writer = cv2.VideoWriter(out_file, cv2.VideoWriter_fourcc(*codec), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"cannot write video {out_file} with codec {codec}; try a .mp4 or .avi "
                      f"file name")
    return writer


def run_demo(model: nn.Module, source: str | os.PathLike, out_file: str | None = None,
             out_dir: str = "outputs", score_thr: float = 0.3, batch_size: int = 4,
             palette: Any = "random", progress: bool = True) -> list[str]:
    """Detect and draw on an image, every image of a folder, or a video.

    Args:
        model: the detector from :func:`init_detector`.
        source: an image file, a folder of images or a video file.
        out_file: where an image's or a video's drawing goes (default:
            ``out_dir/<name>``, a video as ``.mp4``); not used for a folder.
        out_dir: folder for a folder's drawings (one per image, same names) and defaults.
        score_thr: hide detections scoring at most this.
        batch_size: images or frames per forward pass.
        palette: box and text colours.
        progress: show a progress bar (folders and videos).

    Returns:
        The written files.
    """
    source = os.fspath(source)
    kind = source_kind(source)
    if kind == "folder":
        paths = list_images(source)
        if not paths:
            raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {source}")
        written = detect_images(model, paths, out_dir, score_thr, batch_size, palette, progress)
        logger.info("wrote %d images to %s", len(written), out_dir)
        return written
    stem = osp.splitext(osp.basename(source))[0]
    if kind == "video":
        out_file = out_file or osp.join(out_dir, f"{stem}.mp4")
        detect_video(model, source, out_file, score_thr, batch_size, palette, progress)
        return [out_file]
    out_file = out_file or osp.join(out_dir, osp.basename(source))
    result = inference_detector(model, source)
    draw_result(model, source, result, score_thr, out_file, palette)
    logger.info("wrote %s", out_file)
    return [out_file]
