"""``VOCDataset``: Pascal VOC 2007/2012 (or any data set in the VOC layout)."""

from __future__ import annotations

import logging
from typing import Any, Sequence

from ..registry import DATASETS
from .xml_style import XMLDataset

logger = logging.getLogger(__name__)

__all__ = ["VOCDataset"]


@DATASETS.register_module()
class VOCDataset(XMLDataset):
    """Pascal VOC: the 20 VOC classes unless ``classes`` says otherwise.

    ``year`` is 2007 or 2012 when ``img_prefix`` names ``VOC2007``/``VOC2012`` (VOC2007's
    evaluation uses 11-point AP). v2 refuses other prefixes; here ``year`` is then ``None``,
    so data sets in the VOC layout (such as BCCD) load too.

    Args:
        **kwargs: :class:`XMLDataset`'s arguments.
    """

    CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
               "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor")

    PALETTE = [(106, 0, 228), (119, 11, 32), (165, 42, 42), (0, 0, 192), (197, 226, 255),
               (0, 60, 100), (0, 0, 142), (255, 77, 255), (153, 69, 1), (120, 166, 157),
               (0, 182, 199), (0, 226, 252), (182, 182, 255), (0, 0, 230), (220, 20, 60),
               (163, 255, 0), (0, 82, 0), (3, 95, 161), (0, 80, 100), (183, 130, 88)]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        prefix = self.img_prefix or ""
        if "VOC2007" in prefix:
            self.year: int | None = 2007
        elif "VOC2012" in prefix:
            self.year = 2012
        else:
            self.year = None
            logger.info("%s: img_prefix %r names neither VOC2007 nor VOC2012; year is None",
                        type(self).__name__, prefix)

    def evaluate(self, results: list, metric: str | list[str] = "mAP", logger: Any = None,
                 proposal_nums: Sequence[int] = (100, 300, 1000),
                 iou_thr: float | Sequence[float] = 0.5,
                 scale_ranges: Sequence[tuple] | None = None) -> dict:
        """v2's VOC protocol: ``mAP`` (11-point AP for VOC2007, area otherwise) or ``recall``."""
        from ..evaluation import voc_evaluate

        annotations = [self.get_ann_info(i) for i in range(len(self))]
        return voc_evaluate(results, annotations, self.CLASSES, self.year, metric=metric,
                            logger=logger, proposal_nums=proposal_nums, iou_thr=iou_thr,
                            scale_ranges=scale_ranges)
