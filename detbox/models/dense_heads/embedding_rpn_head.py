"""``EmbeddingRPNHead``: Sparse R-CNN's learned proposals (boxes and features, no image input).

The proposals are ``num_proposals`` learned boxes (normalised ``cx, cy, w, h``, starting as
the whole image) scaled to each image's ``img_shape``, with one learned feature each.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ...ops import bbox_cxcywh_to_xyxy
from ...registry import MODELS
from ..base_module import BaseModule

__all__ = ["EmbeddingRPNHead"]


@MODELS.register_module()
class EmbeddingRPNHead(BaseModule):
    """Learned proposals of Sparse R-CNN.

    Args:
        num_proposals: number of proposals per image.
        proposal_feature_channel: channels of each proposal's feature.
        init_cfg: must be ``None`` (the head initialises itself).
        train_cfg: accepted from the detector (``train_cfg.rpn``); unused.
        test_cfg: accepted from the detector (``test_cfg.rpn``); unused.
    """

    def __init__(self, num_proposals: int = 100, proposal_feature_channel: int = 256,
                 init_cfg: dict | list | None = None, train_cfg: Any = None,
                 test_cfg: Any = None) -> None:
        if init_cfg is not None:
            raise ValueError("To prevent abnormal initialization behavior, init_cfg is not "
                             "allowed to be set")
        super().__init__(init_cfg)
        self.num_proposals = num_proposals
        self.proposal_feature_channel = proposal_feature_channel
        self.init_proposal_bboxes = nn.Embedding(num_proposals, 4)
        self.init_proposal_features = nn.Embedding(num_proposals, proposal_feature_channel)

    def init_weights(self) -> None:
        """Every proposal starts as the whole image: centre 0.5, size 1."""
        super().init_weights()
        nn.init.constant_(self.init_proposal_bboxes.weight[:, :2], 0.5)
        nn.init.constant_(self.init_proposal_bboxes.weight[:, 2:], 1)

    def _decode_init_proposals(self, imgs: Any, img_metas: list[dict]
                               ) -> tuple[Tensor, Tensor, Tensor]:
        """``proposals [B, P, 4]`` (pixel xyxy), ``features [B, P, C]``, ``imgs_whwh [B, 1, 4]``.

        ``imgs`` is the feature tuple (only its first tensor's batch size and type are used).
        """
        proposals = bbox_cxcywh_to_xyxy(self.init_proposal_bboxes.weight.clone())
        num_imgs = len(imgs[0])
        imgs_whwh = torch.cat([imgs[0].new_tensor([[m["img_shape"][1], m["img_shape"][0]] * 2])
                               for m in img_metas], dim=0)[:, None, :]
        proposals = proposals * imgs_whwh
        features = self.init_proposal_features.weight.clone()
        features = features[None].expand(num_imgs, *features.size())
        return proposals, features, imgs_whwh

    def forward_dummy(self, img: Any, img_metas: list[dict]) -> tuple[Tensor, Tensor, Tensor]:
        return self._decode_init_proposals(img, img_metas)

    def forward_train(self, img: Any, img_metas: list[dict]) -> tuple[Tensor, Tensor, Tensor]:
        return self._decode_init_proposals(img, img_metas)

    def simple_test_rpn(self, img: Any, img_metas: list[dict]) -> tuple[Tensor, Tensor, Tensor]:
        return self._decode_init_proposals(img, img_metas)

    def simple_test(self, img: Any, img_metas: list[dict]) -> Any:
        raise NotImplementedError("EmbeddingRPNHead is used through simple_test_rpn")

    def aug_test_rpn(self, feats: Any, img_metas: Any) -> Any:
        raise NotImplementedError("EmbeddingRPNHead does not support test-time augmentation")
