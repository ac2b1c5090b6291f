"""``LDHead``: Localization Distillation (Zheng et al., 2022), MMDetection v2's names.

A :class:`GFLHead` student that also learns the teacher's box distributions: at every positive
of the student's own (ATSS) assignment, each side's distribution over ``{0, ..., reg_max}``
follows the teacher's distribution at the same location through ``loss_ld``
(:class:`KnowledgeDistillationKLDivLoss`, temperature ``T``), weighted like the DFL term by the
positive's detached score and averaged over the four sides. The teacher's outputs
(``(cls_scores, bbox_preds)``, per level) come from the detector
(``KnowledgeDistillationSingleStageDetector``); ``bbox_preds`` are the soft targets.

Differences from ``GFLHead`` besides ``loss_ld``: GIoU and DFL are divided by the sum of the
positives' scores plus ``1e-6`` (GFL clamps that sum at 1), as MMDetection's LD does;
``loss_ld`` is not divided by it. Test time is GFL's.

>>> head = LDHead(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=0, reg_max=4,
...               anchor_generator=dict(type='AnchorGenerator', ratios=[1.0],
...                   octave_base_scale=8, scales_per_octave=1, strides=[8]))
>>> type(head.loss_ld).__name__, head.loss_ld.T, head.loss_ld.loss_weight
('KnowledgeDistillationKLDivLoss', 10, 0.25)
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ...registry import MODELS
from ..utils import force_fp32, multi_apply
from .gfl_head import GFLHead
from .head_utils import mean_count, reduce_mean

__all__ = ["LDHead"]


@MODELS.register_module()
class LDHead(GFLHead):
    """GFL head with localization distillation.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        loss_ld: the distillation loss of the box distributions (default
            ``KnowledgeDistillationKLDivLoss``, ``loss_weight=0.25``, ``T=10``).
        **kwargs: :class:`GFLHead` arguments.
    """

    def __init__(self, num_classes: int, in_channels: int, loss_ld: dict | None = None,
                 **kwargs: Any) -> None:
        super().__init__(num_classes, in_channels, **kwargs)
        self.loss_ld = MODELS.build(loss_ld or dict(
            type="KnowledgeDistillationKLDivLoss", loss_weight=0.25, T=10))

    def forward_train(self, x: tuple[Tensor, ...], out_teacher: tuple[list[Tensor], ...],
                      img_metas: list[dict], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor] | None = None,
                      gt_bboxes_ignore: list[Tensor] | None = None, proposal_cfg: Any = None,
                      **kwargs: Any) -> Any:
        """Losses of the student's outputs on ``x`` given the teacher's ``(cls_scores,
        bbox_preds)``; plus proposals when ``proposal_cfg`` is given."""
        outs = self(x)
        soft_target = out_teacher[1]
        if gt_labels is None:
            loss_inputs = outs + (gt_bboxes, soft_target, img_metas)
        else:
            loss_inputs = outs + (gt_bboxes, gt_labels, soft_target, img_metas)
        losses = self.loss(*loss_inputs, gt_bboxes_ignore=gt_bboxes_ignore)
        if proposal_cfg is None:
            return losses
        return losses, self.get_bboxes(*outs, img_metas=img_metas, cfg=proposal_cfg)

    def loss_single(self, anchors: Tensor, cls_score: Tensor, bbox_pred: Tensor,
                    labels: Tensor, label_weights: Tensor, bbox_targets: Tensor,
                    stride: tuple[int, int], soft_targets: Tensor, num_total_samples: float
                    ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """GFL's terms of one level (see :meth:`GFLHead.loss_single`) and ``loss_ld``.

        Args:
            soft_targets: the teacher's box logits ``Tensor[B, 4 * (reg_max + 1), H, W]``.

        Returns:
            ``(loss_cls, loss_bbox, loss_dfl, loss_ld, sum of the positives' weights)``.
        """
        loss_cls, loss_bbox, loss_dfl, weight_sum = super().loss_single(
            anchors, cls_score, bbox_pred, labels, label_weights, bbox_targets, stride,
            num_total_samples)
        bins = self.reg_max + 1
        bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(-1, 4 * bins)
        labels = labels.reshape(-1)
        pos_inds = ((labels >= 0) & (labels < self.num_classes)).nonzero().squeeze(1)
        if len(pos_inds) == 0:
            return loss_cls, loss_bbox, loss_dfl, bbox_pred.sum() * 0, weight_sum
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
        weight_targets = cls_score.detach().sigmoid().max(dim=1)[0][pos_inds]  # [P]
        soft_targets = soft_targets.permute(0, 2, 3, 1).reshape(-1, 4 * bins)
        loss_ld = self.loss_ld(bbox_pred[pos_inds].reshape(-1, bins),  # [4P, bins]
                               soft_targets[pos_inds].reshape(-1, bins),
                               weight=weight_targets[:, None].expand(-1, 4).reshape(-1),
                               avg_factor=4.0)
        return loss_cls, loss_bbox, loss_dfl, loss_ld, weight_sum

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], gt_bboxes: list[Tensor],
             gt_labels: list[Tensor], soft_target: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict | None:
        """``dict(loss_cls, loss_bbox, loss_dfl, loss_ld)``, each a list over levels.

        Args:
            soft_target: the teacher's box logits, per level.
        """
        if len(soft_target) != len(bbox_preds):
            raise ValueError(f"LDHead: the teacher gives {len(soft_target)} levels, the student "
                             f"{len(bbox_preds)}")
        device = cls_scores[0].device
        anchor_list, targets = self.get_loss_targets(cls_scores, gt_bboxes, gt_labels, img_metas,
                                                     gt_bboxes_ignore)
        if targets is None:
            return None
        anchors, labels, label_weights, bbox_targets, _, num_total_pos, _ = targets
        num_total_samples = mean_count(num_total_pos, device)
        losses_cls, losses_bbox, losses_dfl, losses_ld, avg_factor = multi_apply(
            self.loss_single, anchors, cls_scores, bbox_preds, labels, label_weights,
            bbox_targets, self.prior_generator.strides, soft_target,
            num_total_samples=num_total_samples)
        avg_factor = reduce_mean(sum(avg_factor) + 1e-6).item()
        return dict(loss_cls=losses_cls,
                    loss_bbox=[loss / avg_factor for loss in losses_bbox],
                    loss_dfl=[loss / avg_factor for loss in losses_dfl],
                    loss_ld=losses_ld)
