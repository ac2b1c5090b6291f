"""YOLOX's last-epochs switch (MMDetection v2's ``YOLOXModeSwitchHook``)."""

from __future__ import annotations

from typing import Any, Sequence

from ...registry import HOOKS
from ..parallel import unwrap_model
from .hook import Hook

__all__ = ["YOLOXModeSwitchHook"]


@HOOKS.register_module()
class YOLOXModeSwitchHook(Hook):
    """At epoch ``max_epochs - num_last_epochs`` (1-based), drop the strong augmentations and
    turn on the L1 loss of the head.

    The dataset (a ``MultiImageMixDataset``) gets ``update_skip_type_keys(skip_type_keys)``;
    persistent loader workers are restarted so that they see it; ``model.bbox_head.use_l1``
    is set to ``True``.

    Args:
        num_last_epochs: epochs at the end trained without the skipped transforms.
        skip_type_keys: pipeline transform types to skip.
    """

    def __init__(self, num_last_epochs: int = 15,
                 skip_type_keys: Sequence[str] = ("Mosaic", "RandomAffine", "MixUp")) -> None:
        self.num_last_epochs = num_last_epochs
        self.skip_type_keys = skip_type_keys
        self._restart_dataloader = False

    def before_train_epoch(self, runner: Any) -> None:
        loader = runner.data_loader
        if runner.epoch + 1 == runner.max_epochs - self.num_last_epochs:
            runner.logger.info("No mosaic and mixup aug now!")
            loader.dataset.update_skip_type_keys(self.skip_type_keys)
            if getattr(loader, "persistent_workers", False) is True:
                # make the DataLoader build a fresh iterator (and workers) for this epoch
                loader._DataLoader__initialized = False
                loader._iterator = None
                self._restart_dataloader = True
            runner.logger.info("Add additional L1 loss now!")
            unwrap_model(runner.model).bbox_head.use_l1 = True
        elif self._restart_dataloader:
            loader._DataLoader__initialized = True
