"""``TwoStageDetector``: backbone -> neck -> RPN proposals -> RoI head."""

from __future__ import annotations

import warnings
from typing import Any

from torch import Tensor

from ...registry import MODELS
from ..builder import build_model
from .base import BaseDetector


@MODELS.register_module()
class TwoStageDetector(BaseDetector):
    """Base class of two-stage detectors (Faster R-CNN, Cascade R-CNN, ...).

    Args:
        backbone: backbone config.
        neck: neck config, or a list of them applied in sequence.
        rpn_head: RPN head config; it receives ``train_cfg.rpn`` and ``test_cfg.rpn``.
        roi_head: RoI head config; it receives ``train_cfg.rcnn`` and ``test_cfg.rcnn``.
        train_cfg: ``dict(rpn=..., rpn_proposal=..., rcnn=...)``; ``None`` for inference.
        test_cfg: ``dict(rpn=..., rcnn=...)``.
        pretrained: deprecated; use ``backbone.init_cfg``.
        init_cfg: initialisation config.
    """

    def __init__(self, backbone: dict, neck: dict | list | None = None,
                 rpn_head: dict | None = None, roi_head: dict | None = None,
                 train_cfg: dict | None = None, test_cfg: dict | None = None,
                 pretrained: str | None = None, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if pretrained:
            warnings.warn("pretrained is deprecated, use backbone.init_cfg instead",
                          DeprecationWarning, stacklevel=2)
            backbone = {**backbone, "pretrained": pretrained}
        self.backbone = build_model(backbone)
        if neck is not None:
            self.neck = build_model(neck)
        if rpn_head is not None:
            rpn_train_cfg = train_cfg.get("rpn") if train_cfg is not None else None
            rpn_test_cfg = test_cfg.get("rpn") if test_cfg is not None else None
            self.rpn_head = build_model({**rpn_head, "train_cfg": rpn_train_cfg,
                                         "test_cfg": rpn_test_cfg})
        if roi_head is not None:
            rcnn_train_cfg = train_cfg.get("rcnn") if train_cfg is not None else None
            rcnn_test_cfg = test_cfg.get("rcnn") if test_cfg is not None else None
            self.roi_head = build_model({**roi_head, "train_cfg": rcnn_train_cfg,
                                         "test_cfg": rcnn_test_cfg})
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    @property
    def with_rpn(self) -> bool:
        return getattr(self, "rpn_head", None) is not None

    @property
    def with_roi_head(self) -> bool:
        return getattr(self, "roi_head", None) is not None

    def extract_feat(self, img: Tensor) -> tuple[Tensor, ...]:
        """Backbone (and neck) features of ``img: Tensor[B, 3, H, W]``."""
        x = self.backbone(self.prepare_input(img))
        if self.with_neck:
            x = self.neck(x)
        return x

    def forward_train(self, img: Tensor, img_metas: list[dict], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor], gt_bboxes_ignore: list[Tensor] | None = None,
                      gt_masks: Any = None, proposals: list[Tensor] | None = None,
                      **kwargs: Any) -> dict:
        """Losses of the RPN and the RoI head for one batch."""
        super().forward_train(img, img_metas)
        x = self.extract_feat(img)
        losses: dict = {}
        if self.with_rpn:
            proposal_cfg = self.train_cfg.get("rpn_proposal", self.test_cfg.rpn)
            rpn_losses, proposal_list = self.rpn_head.forward_train(
                x, img_metas, gt_bboxes, gt_labels=None, gt_bboxes_ignore=gt_bboxes_ignore,
                proposal_cfg=proposal_cfg, **kwargs)
            losses.update(rpn_losses)
        else:
            proposal_list = proposals
        roi_losses = self.roi_head.forward_train(x, img_metas, proposal_list, gt_bboxes,
                                                 gt_labels, gt_bboxes_ignore, gt_masks, **kwargs)
        losses.update(roi_losses)
        return losses

    def simple_test(self, img: Tensor, img_metas: list[dict],
                    proposals: list[Tensor] | None = None, rescale: bool = False) -> list:
        """Per image, a list over classes of ``np.ndarray[n, 5]``."""
        x = self.extract_feat(img)
        if proposals is None:
            proposals = self.rpn_head.simple_test_rpn(x, img_metas)
        return self.roi_head.simple_test(x, proposals, img_metas, rescale=rescale)

    def aug_test(self, imgs: list[Tensor], img_metas: list[list[dict]],
                 rescale: bool = False) -> list:
        """Test-time augmentation: proposals and detections merged over augmentations."""
        x = self.extract_feats(imgs)
        proposals = self.rpn_head.aug_test_rpn(x, img_metas)
        return self.roi_head.aug_test(x, proposals, img_metas, rescale=rescale)
