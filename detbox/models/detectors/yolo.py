"""YOLOv3 (Redmon and Farhadi, 2018): a single-stage detector (``Darknet``, ``YOLOV3Neck``,
``YOLOV3Head``)."""

from ...registry import MODELS
from .single_stage import SingleStageDetector

__all__ = ["YOLOV3"]


@MODELS.register_module()
class YOLOV3(SingleStageDetector):
    """YOLOv3; the head (``bbox_head``) holds what is particular to it."""
