"""Hooks of the training loop, one per file; importing this package registers them in HOOKS."""

from .check_invalid_loss import CheckInvalidLossHook, InvalidLossError
from .checkpoint import CheckpointHook
from .early_stopping import EarlyStoppingHook
from .ema import BaseEMAHook, EMAHook, ExpMomentumEMAHook, LinearMomentumEMAHook
from .empty_cache import EmptyCacheHook
from .hook import HOOKS, Hook
from .iter_timer import IterTimerHook
from .logger_base import LoggerHook
from .lr_cyclic import CyclicLrUpdaterHook, OneCycleLrUpdaterHook
from .lr_updater import (
    CosineAnnealingLrUpdaterHook,
    CosineRestartLrUpdaterHook,
    ExpLrUpdaterHook,
    FixedLrUpdaterHook,
    FlatCosineAnnealingLrUpdaterHook,
    InvLrUpdaterHook,
    LinearAnnealingLrUpdaterHook,
    LrUpdaterHook,
    PolyLrUpdaterHook,
    StepLrUpdaterHook,
)
from .momentum_updater import (
    CosineAnnealingMomentumUpdaterHook,
    CyclicMomentumUpdaterHook,
    LinearAnnealingMomentumUpdaterHook,
    MomentumUpdaterHook,
    OneCycleMomentumUpdaterHook,
    StepMomentumUpdaterHook,
)
from .num_class_check import NumClassCheckHook
from .optimizer import (
    Fp16OptimizerHook,
    GradientCumulativeFp16OptimizerHook,
    GradientCumulativeOptimizerHook,
    OptimizerHook,
    build_optimizer_hook,
)
from .progress_bar import ProgressBarHook
from .sampler_seed import DistSamplerSeedHook
from .set_epoch_info import SetEpochInfoHook
from .sync_buffer import SyncBuffersHook
from .sync_norm import SyncNormHook
from .tensorboard_logger import TensorboardLoggerHook
from .text_logger import TextLoggerHook
from .yolox_lr_updater import YOLOXLrUpdaterHook
from .yolox_mode_switch import YOLOXModeSwitchHook

__all__ = [
    "HOOKS", "Hook", "CheckInvalidLossHook", "InvalidLossError", "CheckpointHook",
    "EarlyStoppingHook", "BaseEMAHook", "EMAHook", "ExpMomentumEMAHook", "LinearMomentumEMAHook",
    "EmptyCacheHook", "IterTimerHook", "LoggerHook", "CyclicLrUpdaterHook",
    "OneCycleLrUpdaterHook", "CosineAnnealingLrUpdaterHook", "CosineRestartLrUpdaterHook",
    "ExpLrUpdaterHook", "FixedLrUpdaterHook", "FlatCosineAnnealingLrUpdaterHook",
    "InvLrUpdaterHook", "LinearAnnealingLrUpdaterHook", "LrUpdaterHook", "PolyLrUpdaterHook",
    "StepLrUpdaterHook", "CosineAnnealingMomentumUpdaterHook", "CyclicMomentumUpdaterHook",
    "LinearAnnealingMomentumUpdaterHook", "MomentumUpdaterHook", "OneCycleMomentumUpdaterHook",
    "StepMomentumUpdaterHook", "NumClassCheckHook", "Fp16OptimizerHook",
    "GradientCumulativeFp16OptimizerHook", "GradientCumulativeOptimizerHook", "OptimizerHook",
    "build_optimizer_hook", "ProgressBarHook", "DistSamplerSeedHook", "SyncBuffersHook",
    "TensorboardLoggerHook", "TextLoggerHook", "YOLOXLrUpdaterHook", "SetEpochInfoHook",
    "SyncNormHook", "YOLOXModeSwitchHook",
]
