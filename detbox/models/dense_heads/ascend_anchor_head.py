"""``AscendAnchorHead``: MMDetection v2's static-shape ``AnchorHead`` for Ascend NPUs.

MMDetection's Ascend heads compute the targets of a whole batch at once: ground truths padded
to a power-of-two count (32, 64, ... at most 1024) with dummy boxes far outside the image,
anchors stacked per image, masks and arithmetic instead of boolean indexing, so that every
tensor keeps a static shape on the NPU. The targets and losses are those of
:class:`AnchorHead` with :class:`AscendMaxIoUAssigner`; on CPU/GPU detbox computes them with
:class:`AnchorHead`'s per-image code and keeps the Ascend version's restrictions, each a clear
error here:

- ``train_cfg.assigner`` must be ``AscendMaxIoUAssigner`` and the sampler a
  ``PseudoSampler`` (no sampling);
- ``train_cfg.allowed_border`` must be negative (all anchors of the padded image are used);
- ``gt_bboxes_ignore`` is not supported;
- at most 1024 ground truths per image (MMDetection's largest padded count).
"""

from __future__ import annotations

from typing import Any

from ...registry import MODELS
from ..task_modules.assigners import AscendMaxIoUAssigner
from ..task_modules.samplers import PseudoSampler
from .anchor_head import AnchorHead

__all__ = ["AscendAnchorHead", "MAX_NUM_GT"]

MAX_NUM_GT = 1024


@MODELS.register_module()
class AscendAnchorHead(AnchorHead):
    """:class:`AnchorHead` with the Ascend version's checks; same arguments and defaults."""

    def check_ascend_targets(self, gt_bboxes_list: list, gt_bboxes_ignore_list: Any,
                             unmap_outputs: bool, return_sampling_results: bool) -> None:
        """Raise on what MMDetection's Ascend ``get_targets`` does not support."""
        name = type(self).__name__
        if gt_bboxes_ignore_list is not None and any(
                g is not None for g in gt_bboxes_ignore_list):
            raise ValueError(f"{name}: gt_bboxes_ignore is not supported (as in MMDetection's "
                             "Ascend heads); do not collect gt_bboxes_ignore")
        if not unmap_outputs or return_sampling_results:
            raise ValueError(f"{name}: get_targets needs unmap_outputs=True and "
                             "return_sampling_results=False")
        if self.train_cfg["allowed_border"] >= 0:
            raise ValueError(f"{name}: train_cfg.allowed_border must be negative, got "
                             f"{self.train_cfg['allowed_border']}")
        if not isinstance(self.assigner, AscendMaxIoUAssigner):
            raise TypeError(f"{name}: train_cfg.assigner must be AscendMaxIoUAssigner, got "
                            f"{type(self.assigner).__name__}")
        if not isinstance(self.sampler, PseudoSampler):
            raise TypeError(f"{name}: train_cfg.sampler must be a PseudoSampler (no "
                            f"sampling), got {type(self.sampler).__name__}")
        most = max((len(g) for g in gt_bboxes_list), default=0)
        if most > MAX_NUM_GT:
            raise ValueError(f"{name}: {most} ground truths in one image, at most "
                             f"{MAX_NUM_GT} are supported")

    def get_targets(self, anchor_list: list, valid_flag_list: list, gt_bboxes_list: list,
                    img_metas: list[dict], gt_bboxes_ignore_list: list | None = None,
                    gt_labels_list: list | None = None, label_channels: int = 1,
                    unmap_outputs: bool = True, return_sampling_results: bool = False
                    ) -> tuple | None:
        """:meth:`AnchorHead.get_targets` after :meth:`check_ascend_targets`."""
        self.check_ascend_targets(gt_bboxes_list, gt_bboxes_ignore_list, unmap_outputs,
                                  return_sampling_results)
        return AnchorHead.get_targets(self, anchor_list, valid_flag_list, gt_bboxes_list,
                                      img_metas, gt_bboxes_ignore_list, gt_labels_list,
                                      label_channels, unmap_outputs, return_sampling_results)
