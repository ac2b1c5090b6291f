"""Run a detector over a test data loader and collect its results (v2's ``single_gpu_test``
and ``multi_gpu_test``).

Each batch is moved to the model's device and goes through ``model(return_loss=False,
rescale=True, **data)`` under ``torch.no_grad()``; the per-image outputs (for detectors: a
list over classes of ``ndarray[n, 5]``; with masks ``(bbox_results, segm_results)`` whose
binary masks are RLE-encoded here, as v2's ``encode_mask_results``) are gathered in data set
order. Progress is a tqdm bar on a terminal and a log line every 10 % otherwise.
"""

from __future__ import annotations

import itertools
import logging
import os.path as osp
import sys
import time
from typing import Any, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

__all__ = ["single_gpu_test", "multi_gpu_test", "collect_results", "tensor2imgs",
           "ProgressReporter", "encode_results"]

logger = logging.getLogger(__name__)


class ProgressReporter:
    """A tqdm bar when stderr is a terminal; otherwise a log line every ~10 % of ``total``.

    Args:
        total: the number of items expected.
        desc: a label for the bar / lines.
    """

    def __init__(self, total: int, desc: str = "test") -> None:
        self.total, self.desc, self.done = total, desc, 0
        self.start = time.time()
        self._bar = None
        self._every = max(1, -(-total // 10))
        self._next = self._every
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="img", dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more items."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        if self.done >= self._next or self.done >= self.total:
            elapsed = time.time() - self.start
            rate = self.done / elapsed if elapsed > 0 else float("inf")
            eta = (self.total - self.done) / rate if rate > 0 else 0.0
            logger.info("%s: [%d/%d] %.1f img/s, elapsed %.0fs, ETA %.0fs", self.desc,
                        self.done, self.total, rate, elapsed, max(eta, 0.0))
            while self._next <= self.done:
                self._next += self._every

    def close(self) -> None:
        """Close the bar (if any)."""
        if self._bar is not None:
            self._bar.close()


def tensor2imgs(tensor: torch.Tensor, mean: Sequence[float] = (0, 0, 0),
                std: Sequence[float] = (1, 1, 1), to_rgb: bool = True) -> list[np.ndarray]:
    """Undo normalisation of a batch: ``Tensor[B, 3, H, W]`` -> list of BGR ``uint8[H, W, 3]``.

    ``to_rgb=True`` means the pipeline had turned BGR into RGB, so it is turned back.
    """
    if tensor.ndim != 4 or tensor.shape[1] != 3:
        raise ValueError(f"expected a Tensor[B, 3, H, W], got shape {tuple(tensor.shape)}")
    mean_ = np.asarray(mean, dtype=np.float32)
    std_ = np.asarray(std, dtype=np.float32)
    imgs = []
    for img in tensor.detach().cpu().numpy().transpose(0, 2, 3, 1):
        img = img * std_ + mean_
        if to_rgb:
            img = img[..., ::-1]
        imgs.append(np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8)))
    return imgs


def _show_batch(model: nn.Module, data: dict, result: list, palette: Any, show: bool,
                out_dir: str | None, score_thr: float) -> None:
    import cv2

    img_tensor = data["img"][0] if isinstance(data["img"], (list, tuple)) else data["img"]
    metas = data["img_metas"][0] if isinstance(data["img_metas"][0], (list, tuple)) \
        else data["img_metas"]
    imgs = tensor2imgs(img_tensor, **metas[0]["img_norm_cfg"])
    target = model.module if hasattr(model, "module") else model
    for i, (img, meta) in enumerate(zip(imgs, metas)):
        h, w = meta["img_shape"][:2]
        ori_h, ori_w = meta["ori_shape"][:2]
        img_show = cv2.resize(img[:h, :w, :], (ori_w, ori_h), interpolation=cv2.INTER_LINEAR)
        out_file = osp.join(out_dir, meta["ori_filename"]) if out_dir else None
        target.show_result(img_show, result[i], bbox_color=palette, text_color=palette,
                           mask_color=palette, show=show, out_file=out_file,
                           score_thr=score_thr)


def encode_results(result: list) -> list:
    """Per image ``(bbox_results, segm_results)`` with the masks RLE-encoded (compact);
    other results unchanged."""
    if not result or not isinstance(result[0], tuple):
        return result
    from ..structures.masks import encode_mask_results

    return [(bbox_results, encode_mask_results(mask_results))
            for bbox_results, mask_results in result]


def single_gpu_test(model: nn.Module, data_loader: Any, show: bool = False,
                    out_dir: str | None = None, show_score_thr: float = 0.3) -> list:
    """Run ``model`` over every batch of ``data_loader`` in this process.

    Args:
        model: a detector (or a wrapper with ``.module``) taking
            ``model(return_loss=False, rescale=True, **batch)``.
        data_loader: yields test batches (``img``: list per augmentation of
            ``Tensor[B, 3, H, W]``; ``img_metas``: list per augmentation of ``list[dict]``).
        show: display each image with its detections (``model.show_result``).
        out_dir: write each visualisation to ``out_dir/<ori_filename>``.
        show_score_thr: score threshold of the drawn boxes.

    Returns:
        The per-image outputs, in data loader order.
    """
    from ..engine.parallel import model_device, move_to_device

    model.eval()
    device = model_device(model)
    results: list = []
    dataset = data_loader.dataset
    palette = getattr(dataset, "PALETTE", None)
    progress = ProgressReporter(len(dataset))
    try:
        for data in data_loader:
            with torch.no_grad():
                result = model(return_loss=False, rescale=True, **move_to_device(data, device))
            if show or out_dir:
                _show_batch(model, data, result, palette, show, out_dir, show_score_thr)
            results.extend(encode_results(result))
            progress.update(len(result))
    finally:
        progress.close()
    return results


def get_dist_info() -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` without an initialised process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def collect_results(parts: Sequence[list], size: int) -> list:
    """Merge per-rank result lists into data set order.

    A distributed test sampler gives rank ``r`` the indices ``r, r + W, r + 2W, ...``
    (W ranks), padding by repetition so all ranks have as many; so results interleave, and the
    padding is cut at ``size``.
    """
    merged = []
    missing = object()
    for group in itertools.zip_longest(*parts, fillvalue=missing):
        merged.extend(x for x in group if x is not missing)
    return merged[:size]


def multi_gpu_test(model: nn.Module, data_loader: Any, tmpdir: str | None = None,
                   gpu_collect: bool = False) -> list | None:
    """Run ``model`` on this rank's share of the data and gather all ranks' results on rank 0.

    Results travel by ``torch.distributed.all_gather_object`` (any backend, CPU or GPU);
    ``tmpdir`` and ``gpu_collect`` are accepted for v2 compatibility and not needed.

    Returns:
        The results of the whole data set in its order on rank 0; ``None`` on other ranks.
    """
    from ..engine.parallel import model_device, move_to_device

    del tmpdir, gpu_collect
    model.eval()
    device = model_device(model)
    results: list = []
    dataset = data_loader.dataset
    rank, world_size = get_dist_info()
    progress = ProgressReporter(len(dataset)) if rank == 0 else None
    try:
        for data in data_loader:
            with torch.no_grad():
                result = model(return_loss=False, rescale=True, **move_to_device(data, device))
            results.extend(encode_results(result))
            if progress is not None:
                progress.update(len(result) * world_size)
    finally:
        if progress is not None:
            progress.close()
    if world_size == 1:
        return results[:len(dataset)]
    parts: list = [None] * world_size
    dist.all_gather_object(parts, results)
    return collect_results(parts, len(dataset)) if rank == 0 else None
