"""``RPN``: a region proposal network trained and tested on its own."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from torch import Tensor

from ...ops import bbox_mapping
from ...registry import MODELS
from ..builder import build_model
from .base import BaseDetector


@MODELS.register_module()
class RPN(BaseDetector):
    """Region proposal network; test results are, per image, ``np.ndarray[n, 5]`` proposals."""

    def __init__(self, backbone: dict, neck: dict | list | None, rpn_head: dict,
                 train_cfg: dict | None, test_cfg: dict | None, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if pretrained:
            warnings.warn("pretrained is deprecated, use backbone.init_cfg instead",
                          DeprecationWarning, stacklevel=2)
            backbone = {**backbone, "pretrained": pretrained}
        self.backbone = build_model(backbone)
        self.neck = build_model(neck) if neck is not None else None
        rpn_train_cfg = train_cfg.get("rpn") if train_cfg is not None else None
        self.rpn_head = build_model({**rpn_head, "train_cfg": rpn_train_cfg,
                                     "test_cfg": test_cfg.get("rpn")})
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def extract_feat(self, img: Tensor) -> tuple[Tensor, ...]:
        x = self.backbone(self.prepare_input(img))
        return self.neck(x) if self.with_neck else x

    def forward_train(self, img: Tensor, img_metas: list[dict], gt_bboxes: list[Tensor],
                      gt_bboxes_ignore: list[Tensor] | None = None, **kwargs: Any) -> dict:
        super().forward_train(img, img_metas)
        x = self.extract_feat(img)
        return self.rpn_head.forward_train(x, img_metas, gt_bboxes, None, gt_bboxes_ignore)

    def simple_test(self, img: Tensor, img_metas: list[dict], rescale: bool = False
                    ) -> list[np.ndarray]:
        x = self.extract_feat(img)
        proposals = self.rpn_head.simple_test_rpn(x, img_metas)
        if rescale:
            for props, meta in zip(proposals, img_metas):
                props[:, :4] /= props.new_tensor(meta["scale_factor"])
        return [p.cpu().numpy() for p in proposals]

    def aug_test(self, imgs: list[Tensor], img_metas: list[list[dict]], rescale: bool = False
                 ) -> list[np.ndarray]:
        proposals = self.rpn_head.aug_test_rpn(self.extract_feats(imgs), img_metas)
        if not rescale:
            # aug_test_rpn returns boxes in original-image pixels; map them to the first view
            for props, meta in zip(proposals, img_metas[0]):
                props[:, :4] = bbox_mapping(props[:, :4], meta["img_shape"],
                                            meta["scale_factor"], meta["flip"],
                                            meta["flip_direction"])
        return [p.cpu().numpy() for p in proposals]
