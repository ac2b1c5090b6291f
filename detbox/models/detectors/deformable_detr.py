"""``DeformableDETR``: backbone, neck and a ``DeformableDETRHead``."""

from __future__ import annotations

from ...registry import MODELS
from .detr import DETR
from .single_stage import SingleStageDetector

__all__ = ["DeformableDETR"]


@MODELS.register_module()
class DeformableDETR(DETR):
    """Deformable DETR; unlike :class:`DETR` it takes a neck (``ChannelMapper``).

    Args:
        backbone: backbone config.
        neck: neck config.
        bbox_head: ``DeformableDETRHead`` config.
        train_cfg: the head's training config (``assigner``).
        test_cfg: the head's test config (``max_per_img``).
        pretrained: deprecated; use ``backbone.init_cfg``.
        init_cfg: initialisation config.
    """

    def __init__(self, backbone: dict, neck: dict | list | None = None,
                 bbox_head: dict | None = None, train_cfg: dict | None = None,
                 test_cfg: dict | None = None, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        SingleStageDetector.__init__(self, backbone, neck, bbox_head, train_cfg, test_cfg,
                                     pretrained, init_cfg)
