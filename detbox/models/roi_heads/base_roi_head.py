"""``BaseRoIHead``: what every RoI head builds (box extractor + head, assigner + sampler)."""

from __future__ import annotations

from typing import Any

from ..base_module import BaseModule
from ..builder import build_model


class BaseRoIHead(BaseModule):
    """Base class of RoI heads.

    Args:
        bbox_roi_extractor: RoI feature extractor config.
        bbox_head: box head config.
        mask_roi_extractor: RoI extractor of the mask branch (``None``: share the box one).
        mask_head: mask head config (instance segmentation).
        shared_head: a head shared by box and mask branches (ResNet C4 style).
        train_cfg: assigner/sampler settings (``rcnn`` part of the model's train_cfg).
        test_cfg: ``score_thr``, ``nms``, ``max_per_img``.
        pretrained: deprecated; weights of ``shared_head``.
        init_cfg: initialisation config.
    """

    def __init__(self, bbox_roi_extractor: dict | None = None, bbox_head: dict | None = None,
                 mask_roi_extractor: dict | None = None, mask_head: dict | None = None,
                 shared_head: dict | None = None, train_cfg: Any = None, test_cfg: Any = None,
                 pretrained: str | None = None, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        if shared_head is not None:
            if pretrained is not None:
                shared_head = {**shared_head, "pretrained": pretrained}
            self.shared_head = build_model(shared_head)
        if bbox_head is not None:
            self.init_bbox_head(bbox_roi_extractor, bbox_head)
        if mask_head is not None:
            self.init_mask_head(mask_roi_extractor, mask_head)
        self.init_assigner_sampler()

    @property
    def with_bbox(self) -> bool:
        return getattr(self, "bbox_head", None) is not None

    @property
    def with_mask(self) -> bool:
        return getattr(self, "mask_head", None) is not None

    @property
    def with_shared_head(self) -> bool:
        return getattr(self, "shared_head", None) is not None

    def init_bbox_head(self, bbox_roi_extractor: Any, bbox_head: Any) -> None:
        raise NotImplementedError

    def init_mask_head(self, mask_roi_extractor: Any, mask_head: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no mask branch")

    def init_assigner_sampler(self) -> None:
        raise NotImplementedError

