"""``LAD``: Label Assignment Distillation (Nguyen et al., 2022), MMDetection v2's names.

A student PAA-style detector whose positives and negatives are the teacher's PAA assignment:
the teacher (``teacher_backbone``, ``teacher_neck``, ``teacher_bbox_head``, a ``LADHead``, given
inline rather than as a config file) runs on the batch without gradient, its head assigns
labels from its own predictions (``LADHead.get_label_assignment``), and the student's head is
trained on them. The teacher is held as in
:class:`KnowledgeDistillationSingleStageDetector` (not in the ``state_dict``, moved with the
student, eval mode with ``eval_teacher``); ``teacher_ckpt`` holds ``backbone.*``, ``neck.*``,
``bbox_head.*`` (a PAA checkpoint).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ...registry import MODELS
from ..builder import build_model
from .kd_one_stage import KnowledgeDistillationSingleStageDetector, load_teacher_checkpoint
from .single_stage import SingleStageDetector

__all__ = ["LAD"]


@MODELS.register_module()
class LAD(KnowledgeDistillationSingleStageDetector):
    """LAD detector.

    Args:
        backbone, neck, bbox_head, train_cfg, test_cfg, pretrained, init_cfg: the student's.
        teacher_backbone, teacher_neck, teacher_bbox_head: the teacher's parts (its head gets
            the student's ``train_cfg`` and ``test_cfg``; it needs ``get_label_assignment``).
        teacher_ckpt: the teacher's checkpoint (``None``: initial weights).
        eval_teacher: keep the teacher in eval mode during training.
    """

    def __init__(self, backbone: dict, neck: dict | list | None, bbox_head: dict,
                 teacher_backbone: dict, teacher_neck: dict | list | None,
                 teacher_bbox_head: dict, teacher_ckpt: str | None,
                 eval_teacher: bool = True, train_cfg: dict | None = None,
                 test_cfg: dict | None = None, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        SingleStageDetector.__init__(self, backbone, neck, bbox_head, train_cfg, test_cfg,
                                     pretrained, init_cfg)
        self.eval_teacher = eval_teacher
        teacher = nn.Module()
        teacher.backbone = build_model(teacher_backbone)
        if teacher_neck is not None:
            teacher.neck = build_model(teacher_neck)
        teacher.bbox_head = build_model({**teacher_bbox_head, "train_cfg": train_cfg,
                                         "test_cfg": test_cfg})
        if not hasattr(teacher.bbox_head, "get_label_assignment"):
            raise TypeError(f"LAD: teacher_bbox_head {type(teacher.bbox_head).__name__} has no "
                            "get_label_assignment (use LADHead)")
        self.teacher_model = teacher
        if teacher_ckpt is not None:
            load_teacher_checkpoint(self.teacher_model, teacher_ckpt)
        if eval_teacher:
            self.teacher_model.train(False)

    @property
    def with_teacher_neck(self) -> bool:
        """Whether the teacher has a neck."""
        return getattr(self.teacher_model, "neck", None) is not None

    def extract_teacher_feat(self, img: Tensor) -> tuple[Tensor, ...]:
        """The teacher's backbone (and neck) features of ``img: Tensor[B, 3, H, W]``."""
        x = self.teacher_model.backbone(self.prepare_input(img))
        if self.with_teacher_neck:
            x = self.teacher_model.neck(x)
        return x

    def forward_train(self, img: Tensor, img_metas: list[dict], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor], gt_bboxes_ignore: list[Tensor] | None = None,
                      **kwargs: Any) -> dict:
        """The student head's losses under the teacher's label assignment."""
        super(SingleStageDetector, self).forward_train(img, img_metas)  # batch_input_shape
        with torch.no_grad():
            teacher_head = self.teacher_model.bbox_head
            outs_teacher = teacher_head(self.extract_teacher_feat(img))
            assignment = teacher_head.get_label_assignment(
                *outs_teacher, gt_bboxes, gt_labels, img_metas, gt_bboxes_ignore)
        x = self.extract_feat(img)
        return self.bbox_head.forward_train(x, assignment, img_metas, gt_bboxes, gt_labels,
                                            gt_bboxes_ignore)
