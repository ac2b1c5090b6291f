"""Fast R-CNN (Girshick, 2015): a two-stage detector fed with precomputed proposals.

There is no RPN: the proposals come with the data (``LoadProposals`` reads them from the
dataset's ``proposal_file``), ``forward_train(..., proposals=...)`` and
``forward_test(imgs, img_metas, proposals)`` take them, one ``Tensor[n, 4 or 5]`` per image
(at test time a list per augmentation, as for ``img_metas``).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ...registry import MODELS
from .two_stage import TwoStageDetector

__all__ = ["FastRCNN"]


@MODELS.register_module()
class FastRCNN(TwoStageDetector):
    """Fast R-CNN: backbone, neck and RoI head on given proposals.

    Args:
        backbone: backbone config.
        roi_head: RoI head config.
        train_cfg: ``dict(rcnn=...)``.
        test_cfg: ``dict(rcnn=...)``.
        neck: neck config.
        pretrained: deprecated; use ``backbone.init_cfg``.
        init_cfg: initialisation config.
    """

    def __init__(self, backbone: dict, roi_head: dict, train_cfg: dict | None,
                 test_cfg: dict | None, neck: dict | None = None, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(backbone=backbone, neck=neck, roi_head=roi_head, train_cfg=train_cfg,
                         test_cfg=test_cfg, pretrained=pretrained, init_cfg=init_cfg)

    def forward_test(self, imgs: list[Tensor], img_metas: list[list[dict]],  # type: ignore[override]
                     proposals: list[list[Tensor]] | None = None, **kwargs: Any) -> list:
        """Detections from ``proposals`` (per augmentation, per image ``Tensor[n, 4 or 5]``).

        Only one augmentation is supported (as in MMDetection).
        """
        if proposals is None:
            raise ValueError("FastRCNN needs proposals at test time: add LoadProposals to the "
                             "test pipeline, 'proposals' to its Collect keys and a "
                             "proposal_file to the dataset")
        if not isinstance(imgs, list) or not isinstance(img_metas, list):
            raise TypeError("imgs and img_metas must be lists (one entry per augmentation)")
        if len(imgs) != 1:
            raise NotImplementedError("FastRCNN supports one test augmentation only "
                                      f"(got {len(imgs)})")
        for meta in img_metas[0]:
            meta["batch_input_shape"] = tuple(imgs[0].size()[-2:])
        return self.simple_test(imgs[0], img_metas[0], proposals[0], **kwargs)
