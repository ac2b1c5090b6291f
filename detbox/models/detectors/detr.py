"""``DETR``: a backbone and a ``DETRHead`` (no neck), end-to-end set prediction."""

from __future__ import annotations

from torch import Tensor

from ...registry import MODELS
from .single_stage import SingleStageDetector

__all__ = ["DETR"]


@MODELS.register_module()
class DETR(SingleStageDetector):
    """DETR (`End-to-End Object Detection with Transformers`); MMDetection 2.x arguments.

    Args:
        backbone: backbone config.
        bbox_head: ``DETRHead`` config.
        train_cfg: the head's training config (``assigner``).
        test_cfg: the head's test config (``max_per_img``).
        pretrained: deprecated; use ``backbone.init_cfg``.
        init_cfg: initialisation config.
    """

    def __init__(self, backbone: dict, bbox_head: dict, train_cfg: dict | None = None,
                 test_cfg: dict | None = None, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(backbone, None, bbox_head, train_cfg, test_cfg, pretrained, init_cfg)

    def forward_dummy(self, img: Tensor) -> tuple:
        """The head's raw outputs for an unpadded batch (for FLOPs counting)."""
        height, width = img.shape[-2:]
        metas = [dict(batch_input_shape=(height, width), img_shape=(height, width, 3))
                 for _ in range(img.shape[0])]
        return self.bbox_head(self.extract_feat(img), metas)
