"""``PAAHead``: probabilistic anchor assignment (Kim and Lee, 2020), MMDetection v2's.

ATSS's towers and predictors (``atss_cls``, ``atss_reg``, ``atss_centerness``, the last
predicting the IoU of the decoded box). Training: MaxIoU assignment with a low threshold gives
candidate positives; each candidate's loss (focal + GIoU, element-wise) is computed; for every
ground truth the ``topk`` lowest-loss candidates of each level are fitted by a two-component
Gaussian mixture (:class:`GaussianMixture1D`, scikit-learn's result without scikit-learn) and
the candidates of the low-loss component, up to the best-scoring one, stay positive; the other
candidates become negatives. The IoU branch learns the IoU of the decoded positives (binary
cross-entropy), the box loss is weighted by that IoU.

Test time: per level the ``nms_pre`` anchors with the best ``sqrt(max_c score * iou)``, then
class-wise NMS on ``sqrt(score * iou)`` and optionally *score voting* (each detection's box is
the average of the candidates of its class around it, weighted by
``exp(-(1 - IoU)^2 / 0.025) * score``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from ...ops import bbox_overlaps, multiclass_nms
from ...registry import MODELS
from ..task_modules.assigners.gaussian_mixture import GaussianMixture1D
from ..utils import force_fp32, multi_apply
from .anchor_head import AnchorHead
from .atss_head import ATSSHead
from .base_dense_head import BaseDenseHead
from .yolof_head import levels_to_images

__all__ = ["LabelAssignment", "PAAHead"]

EPS = 1e-12


class LabelAssignment(NamedTuple):
    """PAA's assignment over the batch's anchors (images concatenated, ``A`` in all).

    MMDetection's LAD passes it as a plain 7-tuple in this order.
    """

    labels: Tensor  # [A] class index, num_classes for background
    labels_weight: Tensor  # [A]
    bboxes_target: Tensor  # [A, 4] xyxy
    bboxes_weight: list  # per image [A_i, 4] (before the re-assignment; unused by the loss)
    pos_inds_flatten: Tensor  # [P] indices of the positives in A
    pos_anchors: Tensor | None  # [P, 4], None without positives
    num_pos: int


@MODELS.register_module()
class PAAHead(ATSSHead):
    """PAA's head.

    Args:
        topk: candidates per level and ground truth that enter the mixture.
        score_voting: refine the detections by score voting at test time.
        covariance_type: the mixture's covariance type (scikit-learn's names).
        **kwargs: ``ATSSHead`` arguments.
    """

    def __init__(self, *args: Any, topk: int = 9, score_voting: bool = True,
                 covariance_type: str = "diag", **kwargs: Any) -> None:
        self.topk = topk
        self.with_score_voting = score_voting
        self.covariance_type = covariance_type
        super().__init__(*args, **kwargs)

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], iou_preds: list[Tensor],
             gt_bboxes: list[Tensor], gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """``dict(loss_cls, loss_bbox, loss_iou)`` after the re-assignment."""
        assignment = self.paa_assignment(cls_scores, bbox_preds, gt_bboxes, gt_labels,
                                         img_metas, gt_bboxes_ignore)
        return self.losses_of_assignment(cls_scores, bbox_preds, iou_preds, assignment,
                                         len(img_metas), iou_weighted_bbox=True)

    def paa_assignment(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                       gt_bboxes: list[Tensor], gt_labels: list[Tensor], img_metas: list[dict],
                       gt_bboxes_ignore: list[Tensor] | None = None) -> LabelAssignment:
        """PAA's assignment of the anchors from these outputs (per level ``[B, C, H, W]``,
        ``[B, 4, H, W]``): MaxIoU candidates, their losses, the mixture's re-assignment."""
        anchor_list, targets = self.get_loss_targets(cls_scores, gt_bboxes, gt_labels, img_metas,
                                                     gt_bboxes_ignore)
        labels, labels_weight, bboxes_target, bboxes_weight, pos_inds, pos_gt_index = targets
        cls_scores = [s.reshape(-1, self.cls_out_channels) for s in levels_to_images(cls_scores)]
        bbox_preds = [p.reshape(-1, 4) for p in levels_to_images(bbox_preds)]
        pos_losses_list, = multi_apply(self.get_pos_loss, anchor_list, cls_scores, bbox_preds,
                                       labels, labels_weight, bboxes_target, bboxes_weight,
                                       pos_inds)
        with torch.no_grad():
            labels, labels_weight, _, num_pos = multi_apply(
                self.paa_reassign, pos_losses_list, labels, labels_weight, bboxes_weight,
                pos_inds, pos_gt_index, anchor_list)
            num_pos = sum(num_pos)
        labels = torch.cat(labels, 0).view(-1)
        flat_anchors = torch.cat([torch.cat(item, 0) for item in anchor_list])
        labels_weight = torch.cat(labels_weight, 0).view(-1)
        bboxes_target = torch.cat(bboxes_target, 0).view(-1, 4)
        pos_flat = ((labels >= 0) & (labels < self.num_classes)).nonzero().reshape(-1)
        pos_anchors = flat_anchors[pos_flat] if num_pos else None
        return LabelAssignment(labels, labels_weight, bboxes_target, bboxes_weight, pos_flat,
                               pos_anchors, num_pos)

    def losses_of_assignment(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                             iou_preds: list[Tensor], assignment: tuple, num_imgs: int,
                             iou_weighted_bbox: bool) -> dict:
        """``dict(loss_cls, loss_bbox, loss_iou)`` of the outputs under ``assignment`` (a
        :class:`LabelAssignment` or MMDetection's 7-tuple). ``iou_weighted_bbox``: PAA weights
        the GIoU terms by the IoU of the decoded positives and averages over the IoU sum; LAD
        averages over the positives."""
        (labels, labels_weight, bboxes_target, _, pos_flat, pos_anchors,
         num_pos) = assignment
        cls_scores = torch.cat([s.reshape(-1, self.cls_out_channels)
                                for s in levels_to_images(cls_scores)], 0)
        bbox_preds = torch.cat([p.reshape(-1, 4) for p in levels_to_images(bbox_preds)], 0)
        iou_preds = torch.cat([p.reshape(-1, 1) for p in levels_to_images(iou_preds)], 0)
        losses_cls = self.loss_cls(cls_scores, labels, labels_weight,
                                   avg_factor=max(num_pos, num_imgs))
        if num_pos:
            pos_bbox_pred = self.bbox_coder.decode(pos_anchors, bbox_preds[pos_flat])
            pos_bbox_target = bboxes_target[pos_flat]
            iou_target = bbox_overlaps(pos_bbox_pred.detach(), pos_bbox_target, is_aligned=True)
            losses_iou = self.loss_centerness(iou_preds[pos_flat], iou_target.unsqueeze(-1),
                                              avg_factor=num_pos)
            if iou_weighted_bbox:
                losses_bbox = self.loss_bbox(pos_bbox_pred, pos_bbox_target,
                                             iou_target.clamp(min=EPS),
                                             avg_factor=iou_target.sum())
            else:
                losses_bbox = self.loss_bbox(pos_bbox_pred, pos_bbox_target, avg_factor=num_pos)
        else:
            losses_iou = iou_preds.sum() * 0
            losses_bbox = bbox_preds.sum() * 0
        return dict(loss_cls=losses_cls, loss_bbox=losses_bbox, loss_iou=losses_iou)

    def get_pos_loss(self, anchors: list[Tensor], cls_score: Tensor, bbox_pred: Tensor,
                     label: Tensor, label_weight: Tensor, bbox_target: Tensor,
                     bbox_weight: Tensor, pos_inds: Tensor) -> tuple[Tensor]:
        """``(Tensor[P],)``: classification + box loss of each candidate positive of one image
        (the losses' element-wise values, with their ``loss_weight``s)."""
        if not len(pos_inds):
            return (cls_score.new([]),)
        pos_anchors = torch.cat(anchors, 0)[pos_inds]
        pos_bbox_pred = self.bbox_coder.decode(pos_anchors, bbox_pred[pos_inds])
        loss_cls = self.loss_cls(cls_score[pos_inds], label[pos_inds], label_weight[pos_inds],
                                 avg_factor=1.0, reduction_override="none")
        loss_bbox = self.loss_bbox(pos_bbox_pred, bbox_target[pos_inds], bbox_weight[pos_inds],
                                   avg_factor=1.0, reduction_override="none")
        return (loss_bbox + loss_cls.sum(-1),)

    def paa_reassign(self, pos_losses: Tensor, label: Tensor, label_weight: Tensor,
                     bbox_weight: Tensor, pos_inds: Tensor, pos_gt_inds: Tensor,
                     anchors: list[Tensor]) -> tuple[Tensor, Tensor, Tensor, int]:
        """Keep, per ground truth, the candidates of the mixture's low-loss component.

        Args:
            pos_losses: ``Tensor[P]`` losses of the candidates.
            label, label_weight: ``Tensor[A]`` of the image's anchors.
            bbox_weight: ``Tensor[A, 4]``.
            pos_inds: ``Tensor[P]`` anchor indices of the candidates.
            pos_gt_inds: ``Tensor[P]`` their ground truths (0-based).
            anchors: the image's anchors per level.

        Returns:
            ``(label, label_weight, bbox_weight, num_pos)`` after re-assignment.
        """
        if not len(pos_inds):
            return label, label_weight, bbox_weight, 0
        label = label.clone()
        label_weight = label_weight.clone()
        bbox_weight = bbox_weight.clone()
        num_gt = pos_gt_inds.max() + 1
        bounds = np.cumsum([0] + [item.size(0) for item in anchors])
        level_masks = [(pos_inds >= bounds[i]) & (pos_inds < bounds[i + 1])
                       for i in range(len(anchors))]
        pos_after = [label.new_tensor([])]
        ignore_after = [label.new_tensor([])]
        for gt_ind in range(num_gt):
            gt_mask = pos_gt_inds == gt_ind
            inds_gmm, loss_gmm = [], []
            for level_mask in level_masks:
                mask = level_mask & gt_mask
                value, topk_inds = pos_losses[mask].topk(min(int(mask.sum()), self.topk),
                                                         largest=False)
                inds_gmm.append(pos_inds[mask][topk_inds])
                loss_gmm.append(value)
            inds_gmm = torch.cat(inds_gmm)
            loss_gmm = torch.cat(loss_gmm)
            if len(inds_gmm) < 2:
                continue
            loss_gmm, sort_inds = loss_gmm.sort()
            inds_gmm = inds_gmm[sort_inds]
            samples = loss_gmm.detach().cpu()
            gmm = GaussianMixture1D(means_init=(float(samples.min()), float(samples.max())),
                                    weights_init=(0.5, 0.5), precisions_init=(1.0, 1.0),
                                    covariance_type=self.covariance_type).fit(samples)
            assignment = gmm.predict(samples).to(inds_gmm.device)
            scores = gmm.score_samples(samples).to(inds_gmm.device)
            pos_tmp, ignore_tmp = self.gmm_separation_scheme(assignment, scores, inds_gmm)
            pos_after.append(pos_tmp)
            ignore_after.append(ignore_tmp)
        pos_after_t = torch.cat(pos_after)
        ignore_after_t = torch.cat(ignore_after)
        reassign_ids = pos_inds[(pos_inds.unsqueeze(1) != pos_after_t).all(1)]
        label[reassign_ids] = self.num_classes
        label_weight[ignore_after_t] = 0
        bbox_weight[reassign_ids] = 0
        return label, label_weight, bbox_weight, len(pos_after_t)

    def gmm_separation_scheme(self, gmm_assignment: Tensor, scores: Tensor,
                              pos_inds_gmm: Tensor) -> tuple[Tensor, Tensor]:
        """Positives: the candidates of component 0 (sorted by loss) up to the one with the
        highest likelihood; no ignored anchors."""
        fgs = gmm_assignment == 0
        pos = fgs.new_tensor([], dtype=torch.long)
        ignore = fgs.new_tensor([], dtype=torch.long)
        if fgs.nonzero().numel():
            _, pos_thr_ind = scores[fgs].topk(1)
            pos = pos_inds_gmm[fgs][:pos_thr_ind + 1]
            ignore = pos_inds_gmm.new_tensor([])
        return pos, ignore

    def get_targets(self, anchor_list: list, valid_flag_list: list, gt_bboxes_list: list,
                    img_metas: list[dict], gt_bboxes_ignore_list: list | None = None,
                    gt_labels_list: list | None = None, label_channels: int = 1,
                    unmap_outputs: bool = True) -> tuple:
        """Per image (not per level): ``(labels, label_weights, bbox_targets, bbox_weights,
        pos_inds, pos_gt_inds)`` of the MaxIoU candidates."""
        if not unmap_outputs:
            raise AssertionError("PAAHead maps its targets back to all anchors")
        num_imgs = len(img_metas)
        if not len(anchor_list) == len(valid_flag_list) == num_imgs:
            raise AssertionError("PAAHead.get_targets: one anchor set per image expected")
        flat_anchors = [torch.cat(a) for a in anchor_list]
        flat_flags = [torch.cat(f) for f in valid_flag_list]
        if gt_bboxes_ignore_list is None:
            gt_bboxes_ignore_list = [None] * num_imgs
        if gt_labels_list is None:
            gt_labels_list = [None] * num_imgs
        (labels, label_weights, bbox_targets, bbox_weights, _, _, sampling) = multi_apply(
            AnchorHead._get_targets_single, [self] * num_imgs, flat_anchors, flat_flags,
            gt_bboxes_list, gt_bboxes_ignore_list, gt_labels_list, img_metas,
            label_channels=1, unmap_outputs=True)
        pos_inds = [((lab >= 0) & (lab < self.num_classes)).nonzero().view(-1) for lab in labels]
        gt_inds = [item.pos_assigned_gt_inds for item in sampling]
        return labels, label_weights, bbox_targets, bbox_weights, pos_inds, gt_inds

    @force_fp32
    def get_bboxes(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                   score_factors: list[Tensor] | None = None,
                   img_metas: list[dict] | None = None, cfg: Any = None, rescale: bool = False,
                   with_nms: bool = True, **kwargs: Any) -> list:
        """Detections per image; PAA has no test-time augmentation (``with_nms`` only)."""
        if not with_nms:
            raise AssertionError('PAA only supports "with_nms=True" (no test-time augmentation)')
        return BaseDenseHead.get_bboxes(self, cls_scores, bbox_preds, score_factors, img_metas,
                                        cfg, rescale, with_nms, **kwargs)

    def _get_bboxes_single(self, cls_score_list: list[Tensor], bbox_pred_list: list[Tensor],
                           score_factor_list: list[Tensor], mlvl_priors: list[Tensor],
                           img_meta: dict, cfg: Any, rescale: bool = False,
                           with_nms: bool = True, **kwargs: Any) -> tuple[Tensor, Tensor]:
        """Per level the ``nms_pre`` anchors by ``sqrt(max score * iou)``, decoded."""
        cfg = self.test_cfg if cfg is None else cfg
        nms_pre = cfg.get("nms_pre", -1)
        mlvl_bboxes, mlvl_scores, mlvl_ious = [], [], []
        for level, (cls_score, bbox_pred, iou_pred, priors) in enumerate(
                zip(cls_score_list, bbox_pred_list, score_factor_list, mlvl_priors)):
            if cls_score.size()[-2:] != bbox_pred.size()[-2:]:
                raise ValueError(f"cls_score and bbox_pred differ in size at level {level}")
            scores = cls_score.permute(1, 2, 0).reshape(-1, self.cls_out_channels).sigmoid()
            bbox_pred = bbox_pred.permute(1, 2, 0).reshape(-1, 4)
            iou_pred = iou_pred.permute(1, 2, 0).reshape(-1).sigmoid()
            if 0 < nms_pre < scores.shape[0]:
                max_scores, _ = (scores * iou_pred[:, None]).sqrt().max(dim=1)
                _, topk_inds = max_scores.topk(nms_pre)
                priors, bbox_pred = priors[topk_inds, :], bbox_pred[topk_inds, :]
                scores, iou_pred = scores[topk_inds, :], iou_pred[topk_inds]
            mlvl_bboxes.append(self.bbox_coder.decode(priors, bbox_pred,
                                                      max_shape=img_meta["img_shape"]))
            mlvl_scores.append(scores)
            mlvl_ious.append(iou_pred)
        bboxes = torch.cat(mlvl_bboxes)
        if rescale:
            bboxes /= bboxes.new_tensor(img_meta["scale_factor"])
        scores = torch.cat(mlvl_scores)
        scores = torch.cat([scores, scores.new_zeros(scores.shape[0], 1)], dim=1)
        nms_scores = (scores * torch.cat(mlvl_ious)[:, None]).sqrt()
        dets, labels = multiclass_nms(bboxes, nms_scores, cfg["score_thr"], cfg["nms"],
                                      cfg["max_per_img"], score_factors=None)
        if self.with_score_voting and len(dets) > 0:
            dets, labels = self.score_voting(dets, labels, bboxes, nms_scores,
                                             cfg["score_thr"])
        return dets, labels

    def score_voting(self, det_bboxes: Tensor, det_labels: Tensor, mlvl_bboxes: Tensor,
                     mlvl_nms_scores: Tensor, score_thr: float) -> tuple[Tensor, Tensor]:
        """Re-place each detection at the score- and IoU-weighted mean of its class's
        candidates (IoU above 0.01); scores stay. Detections come out grouped by class.

        Args:
            det_bboxes: ``Tensor[n, 5]`` detections after NMS.
            det_labels: ``Tensor[n]``.
            mlvl_bboxes: ``Tensor[N, 4]`` all candidate boxes.
            mlvl_nms_scores: ``Tensor[N, C + 1]`` their scores (last column background).
            score_thr: candidates need a score above this.
        """
        candidate_mask = mlvl_nms_scores > score_thr
        nonzero = candidate_mask.nonzero(as_tuple=False)
        candidate_labels = nonzero[:, 1]
        candidate_bboxes = mlvl_bboxes[nonzero[:, 0]]
        candidate_scores = mlvl_nms_scores[candidate_mask]
        voted_bboxes, voted_labels = [], []
        for cls in range(self.cls_out_channels):
            cls_mask = candidate_labels == cls
            if not cls_mask.any():
                continue
            cls_scores = candidate_scores[cls_mask]
            cls_bboxes = candidate_bboxes[cls_mask]
            dets = det_bboxes[det_labels == cls].view(-1, det_bboxes.size(-1))
            ious = bbox_overlaps(dets[:, :4], cls_bboxes)  # [n_cls, M]
            for i in range(len(dets)):
                near = ious[i] > 0.01
                weights = (torch.exp(-(1 - ious[i][near]) ** 2 / 0.025)
                           * cls_scores[near])[:, None]
                box = torch.sum(weights * cls_bboxes[near], dim=0) / torch.sum(weights, dim=0)
                voted_bboxes.append(torch.cat((box[None, :], dets[i][-1:][None, :]), dim=1))
                voted_labels.append(cls)
        return torch.cat(voted_bboxes, dim=0), det_labels.new_tensor(voted_labels)
