"""``SingleStageDetector``: backbone -> neck -> one dense head (RetinaNet, FCOS, ATSS, ...)."""

from __future__ import annotations

import warnings
from typing import Any

from torch import Tensor

from ...ops import bbox2result
from ...registry import MODELS
from ..builder import build_model
from .base import BaseDetector


@MODELS.register_module()
class SingleStageDetector(BaseDetector):
    """Base class of single-stage detectors: the head predicts boxes densely on the features.

    Args:
        backbone: backbone config.
        neck: neck config, or a list of them applied in sequence (``neck.0``, ``neck.1``...).
        bbox_head: dense head config; it receives ``train_cfg`` and ``test_cfg``.
        train_cfg: the head's training config (assigner, ...); ``None`` for inference.
        test_cfg: the head's test config (``nms_pre``, ``score_thr``, ``nms``, ...).
        pretrained: deprecated; use ``backbone.init_cfg``.
        init_cfg: initialisation config.
    """

    def __init__(self, backbone: dict, neck: dict | list | None = None,
                 bbox_head: dict | None = None, train_cfg: dict | None = None,
                 test_cfg: dict | None = None, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if pretrained:
            warnings.warn("pretrained is deprecated, use backbone.init_cfg instead",
                          DeprecationWarning, stacklevel=2)
            backbone = {**backbone, "pretrained": pretrained}
        if bbox_head is None:
            raise ValueError(f"{type(self).__name__} needs a bbox_head config")
        self.backbone = build_model(backbone)
        if neck is not None:
            self.neck = build_model(neck)
        self.bbox_head = build_model({**bbox_head, "train_cfg": train_cfg,
                                      "test_cfg": test_cfg})
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def extract_feat(self, img: Tensor) -> tuple[Tensor, ...]:
        """Backbone (and neck) features of ``img: Tensor[B, 3, H, W]``."""
        x = self.backbone(self.prepare_input(img))
        if self.with_neck:
            x = self.neck(x)
        return x

    def forward_dummy(self, img: Tensor) -> tuple:
        """The head's raw outputs (for FLOPs counting)."""
        return self.bbox_head(self.extract_feat(img))

    def forward_train(self, img: Tensor, img_metas: list[dict], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor], gt_bboxes_ignore: list[Tensor] | None = None,
                      **kwargs: Any) -> dict:
        """The head's losses for one batch."""
        super().forward_train(img, img_metas)
        x = self.extract_feat(img)
        return self.bbox_head.forward_train(x, img_metas, gt_bboxes, gt_labels,
                                            gt_bboxes_ignore)

    def simple_test(self, img: Tensor, img_metas: list[dict], rescale: bool = False) -> list:
        """Per image, a list over classes of ``np.ndarray[n, 5]``."""
        results = self.bbox_head.simple_test(self.extract_feat(img), img_metas, rescale=rescale)
        return [bbox2result(dets, labels, self.bbox_head.num_classes)
                for dets, labels in results]

    def aug_test(self, imgs: list[Tensor], img_metas: list[list[dict]],
                 rescale: bool = False) -> list:
        """Detections merged over test-time augmentations (heads with ``aug_test``)."""
        if not hasattr(self.bbox_head, "aug_test"):
            raise AssertionError(f"{type(self.bbox_head).__name__} does not support test-time "
                                 "augmentation")
        results = self.bbox_head.aug_test(self.extract_feats(imgs), img_metas, rescale=rescale)
        return [bbox2result(dets, labels, self.bbox_head.num_classes)
                for dets, labels in results]
