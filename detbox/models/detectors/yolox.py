"""YOLOX (Ge et al., 2021): a single-stage detector that trains on randomly resized batches.

Every ``random_size_interval`` training iterations a new input size is drawn:
``size_multiplier * randint(*random_size_range)`` for the height, the width following the
aspect ratio of ``input_size`` (drawn on rank 0 and broadcast). A batch whose size differs
from ``input_size`` is resized bilinearly and its ground-truth boxes scaled with it (the
metas are left as they are, as in MMDetection).
"""

from __future__ import annotations

import logging
import random
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor

from ...registry import MODELS
from .single_stage import SingleStageDetector

__all__ = ["YOLOX"]

logger = logging.getLogger(__name__)


def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@MODELS.register_module()
class YOLOX(SingleStageDetector):
    """YOLOX.

    Args:
        backbone: backbone config.
        neck: neck config.
        bbox_head: head config (``YOLOXHead``).
        train_cfg: the head's training config.
        test_cfg: the head's test config.
        pretrained: deprecated.
        input_size: ``(h, w)`` the pipeline produces.
        size_multiplier: the drawn size is a multiple of this.
        random_size_range: range (inclusive) of the drawn size in multiples.
        random_size_interval: iterations between draws.
        init_cfg: initialisation config.
    """

    def __init__(self, backbone: dict, neck: dict, bbox_head: dict,
                 train_cfg: dict | None = None, test_cfg: dict | None = None,
                 pretrained: str | None = None, input_size: tuple[int, int] = (640, 640),
                 size_multiplier: int = 32, random_size_range: tuple[int, int] = (15, 25),
                 random_size_interval: int = 10, init_cfg: dict | list | None = None) -> None:
        super().__init__(backbone, neck, bbox_head, train_cfg, test_cfg, pretrained, init_cfg)
        if input_size[0] != input_size[1]:
            logger.info("image shape: height=%d, width=%d in %s", input_size[0], input_size[1],
                        type(self).__name__)
        self.rank, self.world_size = _dist_info()
        self._default_input_size = tuple(input_size)
        self._input_size = tuple(input_size)
        self._random_size_range = random_size_range
        self._random_size_interval = random_size_interval
        self._size_multiplier = size_multiplier
        self._progress_in_iter = 0

    def forward_train(self, img: Tensor, img_metas: list[dict], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor], gt_bboxes_ignore: list[Tensor] | None = None,
                      **kwargs: Any) -> dict:
        """Resize the batch to the current size, the head's losses, maybe draw a new size."""
        img, gt_bboxes = self._preprocess(img, gt_bboxes)
        losses = super().forward_train(img, img_metas, gt_bboxes, gt_labels, gt_bboxes_ignore)
        if (self._progress_in_iter + 1) % self._random_size_interval == 0:
            self._input_size = self._random_resize(img.device)
        self._progress_in_iter += 1
        return losses

    def _preprocess(self, img: Tensor, gt_bboxes: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        """``img: Tensor[B, 3, H, W]`` resized to the current input size, boxes scaled."""
        scale_y = self._input_size[0] / self._default_input_size[0]
        scale_x = self._input_size[1] / self._default_input_size[1]
        if scale_x != 1 or scale_y != 1:
            img = F.interpolate(img, size=self._input_size, mode="bilinear", align_corners=False)
            scaled = []
            for boxes in gt_bboxes:
                boxes = boxes.clone()
                boxes[..., 0::2] *= scale_x
                boxes[..., 1::2] *= scale_y
                scaled.append(boxes)
            gt_bboxes = scaled
        return img, gt_bboxes

    def _random_resize(self, device: torch.device) -> tuple[int, int]:
        """A new ``(h, w)``, drawn on rank 0 and broadcast to the others."""
        size = torch.zeros(2, dtype=torch.long, device=device)
        if self.rank == 0:
            k = random.randint(*self._random_size_range)
            aspect = float(self._default_input_size[1]) / self._default_input_size[0]
            size[0] = self._size_multiplier * k
            size[1] = self._size_multiplier * int(aspect * k)
        if self.world_size > 1:
            dist.barrier()
            dist.broadcast(size, 0)
        return int(size[0].item()), int(size[1].item())
