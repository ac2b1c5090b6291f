"""``KnowledgeDistillationSingleStageDetector``: a one-stage student trained beside a frozen
teacher detector (Hinton et al., 2015; LD uses it with GFL heads).

The teacher is built from its own config (``teacher_config``: a config file, resolved like
MMDetection relative to the working directory, or a config dict with a ``model`` key) and,
with ``teacher_ckpt``, loaded through detbox's checkpoint loading (safe unpickling; URLs and
``torchvision://``-style names resolve through the hub cache, downloaded when allowed).

The teacher is held as a plain attribute, not a sub-module: it is not in the student's
``state_dict``, ``parameters()`` or ``modules()`` (so it is neither saved, trained nor
initialised by ``init_weights``), but it follows the student through ``.to()``, ``.cuda()``,
``.cpu()``, ``.half()`` (every ``nn.Module._apply``) and ``use_channels_last``. With
``eval_teacher`` (default) it stays in eval mode whatever ``train()`` says.

Training: the teacher's head outputs on the batch (no gradient) go to the student's
``bbox_head.forward_train(x, out_teacher, img_metas, ...)``; testing is the student's alone.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor, nn

from ...config import Config
from ...registry import MODELS
from ..builder import build_detector
from .single_stage import SingleStageDetector

__all__ = ["KnowledgeDistillationSingleStageDetector", "load_teacher_config",
           "load_teacher_checkpoint"]

logger = logging.getLogger(__name__)


def load_teacher_config(teacher_config: str | os.PathLike | dict) -> dict:
    """The teacher's ``model`` config from a config file path or a config dict.

    Raises:
        FileNotFoundError: the file does not exist (named, with the working directory a
            relative path was resolved against).
        ValueError: the config has no ``model``.
    """
    source = "the teacher config dict"
    if isinstance(teacher_config, (str, Path)):
        path = os.fspath(teacher_config)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"teacher_config {path}: no such file (a relative path is resolved against the "
                f"working directory, {os.getcwd()}, as in MMDetection; run from the repository "
                f"root or give an absolute path)")
        source = f"teacher_config {path}"
        teacher_config = Config.fromfile(path)
    if "model" not in teacher_config:
        raise ValueError(f"{source} has no 'model' field")
    return teacher_config["model"]


def load_teacher_checkpoint(teacher: nn.Module, teacher_ckpt: str) -> None:
    """Load ``teacher_ckpt`` (path, URL, ``torchvision://``...) into ``teacher`` on the CPU,
    through :func:`detbox.utils.checkpoint.load_checkpoint` (safe loading, hub cache)."""
    from detbox.utils.checkpoint import load_checkpoint  # utils sit above models

    logger.info("loading the teacher's weights from %s", teacher_ckpt)
    load_checkpoint(teacher, teacher_ckpt, map_location="cpu")


@MODELS.register_module()
class KnowledgeDistillationSingleStageDetector(SingleStageDetector):
    """Single-stage student with a teacher detector.

    Args:
        backbone, neck, bbox_head, train_cfg, test_cfg, pretrained, init_cfg: the student's,
            as in :class:`SingleStageDetector`; its ``bbox_head.forward_train`` takes the
            teacher's outputs (``LDHead``).
        teacher_config: the teacher's config file (relative to the working directory) or
            config dict (with ``model``).
        teacher_ckpt: the teacher's checkpoint; ``None`` keeps its initial weights.
        eval_teacher: keep the teacher in eval mode during training.
    """

    def __init__(self, backbone: dict, neck: dict | list | None, bbox_head: dict,
                 teacher_config: str | os.PathLike | dict, teacher_ckpt: str | None = None,
                 eval_teacher: bool = True, train_cfg: dict | None = None,
                 test_cfg: dict | None = None, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(backbone, neck, bbox_head, train_cfg, test_cfg, pretrained, init_cfg)
        self.eval_teacher = eval_teacher
        self.teacher_model = build_detector(load_teacher_config(teacher_config))
        if teacher_ckpt is not None:
            load_teacher_checkpoint(self.teacher_model, teacher_ckpt)
        if eval_teacher:  # MMDetection waits for the first train(); a BN teacher would drift
            self.teacher_model.train(False)

    def __setattr__(self, name: str, value: Any) -> None:
        """``teacher_model`` is a plain attribute (see the module docstring)."""
        if name == "teacher_model":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def _apply(self, fn: Callable, *args: Any, **kwargs: Any) -> nn.Module:
        """Apply ``fn`` (device, dtype or memory-format moves) to the teacher too."""
        teacher = self.__dict__.get("teacher_model")
        if teacher is not None:
            teacher._apply(fn, *args, **kwargs)
        return super()._apply(fn, *args, **kwargs)

    def train(self, mode: bool = True) -> KnowledgeDistillationSingleStageDetector:
        """Set the student's mode; the teacher's is ``False`` with ``eval_teacher``."""
        teacher = self.__dict__.get("teacher_model")
        if teacher is not None:
            teacher.train(False if self.eval_teacher else mode)
        return super().train(mode)

    def use_channels_last(self, enabled: bool = True) -> SingleStageDetector:
        """Student and teacher in NHWC layout (see ``BaseDetector.use_channels_last``)."""
        if hasattr(self.teacher_model, "use_channels_last"):
            self.teacher_model.use_channels_last(enabled)
        return super().use_channels_last(enabled)

    def teacher_outputs(self, img: Tensor) -> tuple:
        """The teacher's head outputs on ``img`` (no gradient)."""
        with torch.no_grad():
            return self.teacher_model.bbox_head(self.teacher_model.extract_feat(img))

    def forward_train(self, img: Tensor, img_metas: list[dict], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor], gt_bboxes_ignore: list[Tensor] | None = None,
                      **kwargs: Any) -> dict:
        """The student head's losses given the teacher's outputs on the same batch."""
        super(SingleStageDetector, self).forward_train(img, img_metas)  # batch_input_shape
        out_teacher = self.teacher_outputs(img)
        x = self.extract_feat(img)
        return self.bbox_head.forward_train(x, out_teacher, img_metas, gt_bboxes, gt_labels,
                                            gt_bboxes_ignore)
