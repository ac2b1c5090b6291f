"""TOOD (Feng et al., 2021): task-aligned one-stage detection."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class TOOD(SingleStageDetector):
    """TOOD; the head (``TOODHead``) holds what is particular to it.

    ``set_epoch`` (called by ``SetEpochInfoHook`` before each training epoch) tells the head
    the epoch, which switches it from ATSS to task-aligned assignment at
    ``train_cfg.initial_epoch``.
    """

    def set_epoch(self, epoch: int) -> None:
        self.bbox_head.epoch = epoch
