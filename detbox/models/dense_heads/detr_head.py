"""``DETRHead``: set prediction with a transformer and one-to-one (Hungarian) matching.

``num_query`` learned queries attend to the (projected, position-encoded) last feature map;
every decoder layer's output is classified (``fc_cls``, ``num_classes + 1`` softmax outputs
by default) and regressed (``reg_ffn`` + ``fc_reg``, sigmoid ``cx, cy, w, h`` normalised by
the image size). Training matches each layer's predictions to the ground truths; the last
layer's losses are ``loss_cls/loss_bbox/loss_iou``, earlier layers' ``d{i}.loss_*``.

The padding mask is 1 outside each image's ``img_shape`` within the batch's
``batch_input_shape``, resized (nearest) to the feature map.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops import bbox_cxcywh_to_xyxy, bbox_xyxy_to_cxcywh
from ...registry import MODELS, TASK_UTILS
from ..layers.activation import build_activation_layer
from ..layers.transformer import FFN, build_positional_encoding, build_transformer
from ..utils import force_fp32, multi_apply
from .base_dense_head import BaseDenseHead
from .head_utils import reduce_mean

__all__ = ["DETRHead", "padding_masks"]


def padding_masks(img_metas: list[dict], like: Tensor) -> Tensor:
    """``Tensor[B, H, W]`` of the batch input: 0 inside each ``img_shape``, 1 in the padding."""
    input_h, input_w = img_metas[0]["batch_input_shape"]
    masks = like.new_ones((len(img_metas), input_h, input_w))
    for i, meta in enumerate(img_metas):
        img_h, img_w = meta["img_shape"][:2]
        masks[i, :img_h, :img_w] = 0
    return masks


@MODELS.register_module()
class DETRHead(BaseDenseHead):
    """DETR's head (MMDetection 2.x arguments and state_dict).

    Args:
        num_classes: number of object classes.
        in_channels: channels of the input feature map.
        num_query: number of object queries.
        num_reg_fcs: fully connected layers of ``reg_ffn``.
        transformer: transformer config.
        sync_cls_avg_factor: average the classification normaliser over processes.
        positional_encoding: positional encoding config (``num_feats * 2 == embed_dims``).
        loss_cls: classification loss; for softmax CE, ``class_weight`` (a float) and
            ``bg_cls_weight`` become per-class weights with the background's last.
        loss_bbox: L1 loss on normalised ``cx, cy, w, h``.
        loss_iou: IoU loss on pixel boxes.
        train_cfg: ``dict(assigner=...)``; the matcher's weights must equal the losses'.
        test_cfg: ``dict(max_per_img=...)``.
        init_cfg: initialisation config.
    """

    _version = 2

    def __init__(self, num_classes: int, in_channels: int, num_query: int = 100,
                 num_reg_fcs: int = 2, transformer: dict | None = None,
                 sync_cls_avg_factor: bool = False,
                 positional_encoding: dict | None = None, loss_cls: dict | None = None,
                 loss_bbox: dict | None = None, loss_iou: dict | None = None,
                 train_cfg: dict | None = None, test_cfg: dict | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        positional_encoding = dict(positional_encoding or dict(
            type="SinePositionalEncoding", num_feats=128, normalize=True))
        loss_cls = dict(loss_cls or dict(type="CrossEntropyLoss", bg_cls_weight=0.1,
                                         use_sigmoid=False, loss_weight=1.0, class_weight=1.0))
        loss_bbox = loss_bbox or dict(type="L1Loss", loss_weight=5.0)
        loss_iou = loss_iou or dict(type="GIoULoss", loss_weight=2.0)
        if transformer is None:
            raise ValueError(f"{type(self).__name__} needs a transformer config")
        self.bg_cls_weight = 0
        self.sync_cls_avg_factor = sync_cls_avg_factor
        class_weight = loss_cls.get("class_weight", None)
        if class_weight is not None and type(self) is DETRHead:
            if not isinstance(class_weight, float):
                raise TypeError(f"Expected class_weight to have type float. Found "
                                f"{type(class_weight)}.")
            bg_cls_weight = loss_cls.pop("bg_cls_weight", class_weight)
            if not isinstance(bg_cls_weight, float):
                raise TypeError(f"Expected bg_cls_weight to have type float. Found "
                                f"{type(bg_cls_weight)}.")
            loss_cls["class_weight"] = [class_weight] * num_classes + [bg_cls_weight]
            self.bg_cls_weight = bg_cls_weight
        if train_cfg:
            if "assigner" not in train_cfg:
                raise ValueError("assigner should be provided when train_cfg is set.")
            assigner = train_cfg["assigner"]
            for loss, cost, what in ((loss_cls, "cls_cost", "classification"),
                                     (loss_bbox, "reg_cost", "regression L1"),
                                     (loss_iou, "iou_cost", "regression iou")):
                if loss["loss_weight"] != assigner[cost]["weight"]:
                    raise ValueError(f"The {what} weight for loss and matcher should be exactly "
                                     f"the same ({loss['loss_weight']} vs "
                                     f"{assigner[cost]['weight']}).")
            self.assigner = TASK_UTILS.build(assigner)
            self.sampler = TASK_UTILS.build(dict(type="PseudoSampler"))
        self.num_query = num_query
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.num_reg_fcs = num_reg_fcs
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg if test_cfg is not None else dict(max_per_img=100)
        self.fp16_enabled = False
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.loss_iou = MODELS.build(loss_iou)
        self.cls_out_channels = num_classes if self.loss_cls.use_sigmoid else num_classes + 1
        self.act_cfg = transformer.get("act_cfg", dict(type="ReLU", inplace=True))
        self.activate = build_activation_layer(self.act_cfg)
        self.positional_encoding = build_positional_encoding(positional_encoding)
        self.transformer = build_transformer(transformer)
        self.embed_dims = self.transformer.embed_dims
        if "num_feats" not in positional_encoding:
            raise ValueError("positional_encoding needs num_feats")
        if positional_encoding["num_feats"] * 2 != self.embed_dims:
            raise ValueError(f"embed_dims should be exactly 2 times of num_feats. Found "
                             f"{self.embed_dims} and {positional_encoding['num_feats']}.")
        self._init_layers()

    def _init_layers(self) -> None:
        self.input_proj = nn.Conv2d(self.in_channels, self.embed_dims, kernel_size=1)
        self.fc_cls = nn.Linear(self.embed_dims, self.cls_out_channels)
        self.reg_ffn = FFN(self.embed_dims, self.embed_dims, self.num_reg_fcs, self.act_cfg,
                           ffn_drop=0.0, add_identity=False)
        self.fc_reg = nn.Linear(self.embed_dims, 4)
        self.query_embedding = nn.Embedding(self.num_query, self.embed_dims)

    def init_weights(self) -> None:
        """Only the transformer is initialised (the rest keeps PyTorch's defaults)."""
        self.transformer.init_weights()

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              strict: bool, missing_keys: list, unexpected_keys: list,
                              error_msgs: list) -> None:
        """Rename keys of checkpoints saved before MMDetection's version 2 of this head."""
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and type(self) is DETRHead:
            renames = {".self_attn.": ".attentions.0.", ".ffn.": ".ffns.0.",
                       ".multihead_attn.": ".attentions.1.",
                       ".decoder.norm.": ".decoder.post_norm."}
            for key in list(state_dict):
                if not key.startswith(prefix):
                    continue
                for old, new in renames.items():
                    if old in key:
                        state_dict[key.replace(old, new)] = state_dict.pop(key)
                        break
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def forward(self, feats: tuple[Tensor, ...], img_metas: list[dict]
                ) -> tuple[list[Tensor], list[Tensor]]:
        """Per level: ``cls_scores [layers, B, num_query, cls_out]`` and ``bbox_preds
        [layers, B, num_query, 4]`` (normalised ``cx, cy, w, h``)."""
        return multi_apply(self.forward_single, feats, [img_metas] * len(feats))

    def forward_single(self, x: Tensor, img_metas: list[dict]) -> tuple[Tensor, Tensor]:
        """Outputs of every decoder layer for one feature map ``x: Tensor[B, C, H, W]``."""
        masks = padding_masks(img_metas, x)
        x = self.input_proj(x)
        masks = F.interpolate(masks.unsqueeze(1), size=x.shape[-2:]).to(torch.bool).squeeze(1)
        pos_embed = self.positional_encoding(masks)
        outs_dec, _ = self.transformer(x, masks, self.query_embedding.weight, pos_embed)
        all_cls_scores = self.fc_cls(outs_dec)
        all_bbox_preds = self.fc_reg(self.activate(self.reg_ffn(outs_dec))).sigmoid()
        return all_cls_scores, all_bbox_preds

    @force_fp32
    def loss(self, all_cls_scores_list: list[Tensor], all_bbox_preds_list: list[Tensor],
             gt_bboxes_list: list[Tensor], gt_labels_list: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """Losses of the last feature level's outputs, for every decoder layer."""
        return self._decoder_losses(all_cls_scores_list[-1], all_bbox_preds_list[-1],
                                    gt_bboxes_list, gt_labels_list, img_metas, gt_bboxes_ignore)

    def _decoder_losses(self, all_cls_scores: Tensor, all_bbox_preds: Tensor,
                        gt_bboxes_list: list[Tensor], gt_labels_list: list[Tensor],
                        img_metas: list[dict], gt_bboxes_ignore: Any = None,
                        loss_dict: dict | None = None) -> dict:
        """``loss_*`` of the last layer and ``d{i}.loss_*`` of the others (appended to
        ``loss_dict``)."""
        if gt_bboxes_ignore is not None:
            raise ValueError(f"{type(self).__name__} only supports gt_bboxes_ignore=None")
        num_layers = len(all_cls_scores)
        losses_cls, losses_bbox, losses_iou = multi_apply(
            self.loss_single, all_cls_scores, all_bbox_preds, [gt_bboxes_list] * num_layers,
            [gt_labels_list] * num_layers, [img_metas] * num_layers)
        loss_dict = {} if loss_dict is None else loss_dict
        loss_dict["loss_cls"] = losses_cls[-1]
        loss_dict["loss_bbox"] = losses_bbox[-1]
        loss_dict["loss_iou"] = losses_iou[-1]
        for i, (lc, lb, li) in enumerate(zip(losses_cls[:-1], losses_bbox[:-1],
                                             losses_iou[:-1])):
            loss_dict[f"d{i}.loss_cls"] = lc
            loss_dict[f"d{i}.loss_bbox"] = lb
            loss_dict[f"d{i}.loss_iou"] = li
        return loss_dict

    def loss_single(self, cls_scores: Tensor, bbox_preds: Tensor, gt_bboxes_list: list[Tensor],
                    gt_labels_list: list[Tensor], img_metas: list[dict],
                    gt_bboxes_ignore_list: Any = None) -> tuple[Tensor, Tensor, Tensor]:
        """Losses of one decoder layer: ``cls_scores [B, Q, C']``, ``bbox_preds [B, Q, 4]``."""
        num_imgs = cls_scores.size(0)
        (labels_list, label_weights_list, bbox_targets_list, bbox_weights_list,
         num_total_pos, num_total_neg) = self.get_targets(
            [cls_scores[i] for i in range(num_imgs)], [bbox_preds[i] for i in range(num_imgs)],
            gt_bboxes_list, gt_labels_list, img_metas, gt_bboxes_ignore_list)
        labels = torch.cat(labels_list, 0)
        label_weights = torch.cat(label_weights_list, 0)
        bbox_targets = torch.cat(bbox_targets_list, 0)
        bbox_weights = torch.cat(bbox_weights_list, 0)
        cls_scores = cls_scores.reshape(-1, self.cls_out_channels)
        cls_avg_factor = num_total_pos * 1.0 + num_total_neg * self.bg_cls_weight
        if self.sync_cls_avg_factor:
            cls_avg_factor = reduce_mean(cls_scores.new_tensor([cls_avg_factor]))
        cls_avg_factor = max(cls_avg_factor, 1)
        loss_cls = self.loss_cls(cls_scores, labels, label_weights, avg_factor=cls_avg_factor)
        num_total_pos = torch.clamp(reduce_mean(loss_cls.new_tensor([num_total_pos])),
                                    min=1).item()
        factors = torch.cat([
            bbox_pred.new_tensor([m["img_shape"][1], m["img_shape"][0]] * 2)
            .unsqueeze(0).repeat(bbox_pred.size(0), 1)
            for m, bbox_pred in zip(img_metas, bbox_preds)], 0)
        bbox_preds = bbox_preds.reshape(-1, 4)
        bboxes = bbox_cxcywh_to_xyxy(bbox_preds) * factors
        bboxes_gt = bbox_cxcywh_to_xyxy(bbox_targets) * factors
        loss_iou = self.loss_iou(bboxes, bboxes_gt, bbox_weights, avg_factor=num_total_pos)
        loss_bbox = self.loss_bbox(bbox_preds, bbox_targets, bbox_weights,
                                   avg_factor=num_total_pos)
        return loss_cls, loss_bbox, loss_iou

    def get_targets(self, cls_scores_list: list[Tensor], bbox_preds_list: list[Tensor],
                    gt_bboxes_list: list[Tensor], gt_labels_list: list[Tensor],
                    img_metas: list[dict], gt_bboxes_ignore_list: Any = None) -> tuple:
        """Per image targets, and the total numbers of positives and negatives."""
        if gt_bboxes_ignore_list is not None:
            raise ValueError("Only supports for gt_bboxes_ignore setting to None.")
        (labels_list, label_weights_list, bbox_targets_list, bbox_weights_list,
         pos_inds_list, neg_inds_list) = multi_apply(
            self._get_target_single, cls_scores_list, bbox_preds_list, gt_bboxes_list,
            gt_labels_list, img_metas)
        num_total_pos = sum(inds.numel() for inds in pos_inds_list)
        num_total_neg = sum(inds.numel() for inds in neg_inds_list)
        return (labels_list, label_weights_list, bbox_targets_list, bbox_weights_list,
                num_total_pos, num_total_neg)

    def _get_target_single(self, cls_score: Tensor, bbox_pred: Tensor, gt_bboxes: Tensor,
                           gt_labels: Tensor, img_meta: dict) -> tuple[Tensor, ...]:
        """Match one image's queries; targets are normalised ``cx, cy, w, h``."""
        num_bboxes = bbox_pred.size(0)
        assign_result = self.assigner.assign(bbox_pred, cls_score, gt_bboxes, gt_labels,
                                             img_meta, None)
        sampling_result = self.sampler.sample(assign_result, bbox_pred, gt_bboxes)
        pos_inds = sampling_result.pos_inds
        neg_inds = sampling_result.neg_inds
        labels = gt_bboxes.new_full((num_bboxes,), self.num_classes, dtype=torch.long)
        labels[pos_inds] = gt_labels[sampling_result.pos_assigned_gt_inds]
        label_weights = gt_bboxes.new_ones(num_bboxes)
        bbox_targets = torch.zeros_like(bbox_pred)
        bbox_weights = torch.zeros_like(bbox_pred)
        bbox_weights[pos_inds] = 1.0
        img_h, img_w = img_meta["img_shape"][:2]
        factor = bbox_pred.new_tensor([img_w, img_h, img_w, img_h]).unsqueeze(0)
        bbox_targets[pos_inds] = bbox_xyxy_to_cxcywh(sampling_result.pos_gt_bboxes / factor)
        return labels, label_weights, bbox_targets, bbox_weights, pos_inds, neg_inds

    def forward_train(self, x: tuple[Tensor, ...], img_metas: list[dict],
                      gt_bboxes: list[Tensor], gt_labels: list[Tensor] | None = None,
                      gt_bboxes_ignore: list[Tensor] | None = None, proposal_cfg: Any = None,
                      **kwargs: Any) -> dict:
        """Losses of one batch (no proposals: DETR heads are not RPNs)."""
        if proposal_cfg is not None:
            raise ValueError('"proposal_cfg" must be None')
        outs = self(x, img_metas)
        loss_inputs = outs + ((gt_bboxes, img_metas) if gt_labels is None
                              else (gt_bboxes, gt_labels, img_metas))
        return self.loss(*loss_inputs, gt_bboxes_ignore=gt_bboxes_ignore)

    @force_fp32
    def get_bboxes(self, all_cls_scores_list: list[Tensor], all_bbox_preds_list: list[Tensor],
                   img_metas: list[dict], rescale: bool = False) -> list[tuple[Tensor, Tensor]]:
        """Detections of the last level's last decoder layer, per image."""
        return self._last_layer_bboxes(all_cls_scores_list[-1][-1], all_bbox_preds_list[-1][-1],
                                       img_metas, rescale)

    def _last_layer_bboxes(self, cls_scores: Tensor, bbox_preds: Tensor, img_metas: list[dict],
                           rescale: bool) -> list[tuple[Tensor, Tensor]]:
        return [self._get_bboxes_single(cls_scores[i], bbox_preds[i], meta["img_shape"],
                                        meta["scale_factor"], rescale)
                for i, meta in enumerate(img_metas)]

    def _get_bboxes_single(self, cls_score: Tensor, bbox_pred: Tensor, img_shape: tuple,
                           scale_factor: Any, rescale: bool = False) -> tuple[Tensor, Tensor]:
        """Top ``max_per_img`` queries of one image -> ``(dets [n, 5], labels [n])``.

        Sigmoid scores rank every (query, class) pair; softmax scores take each query's best
        foreground class.
        """
        max_per_img = self.test_cfg.get("max_per_img", self.num_query)
        if self.loss_cls.use_sigmoid:
            scores, indexes = cls_score.sigmoid().view(-1).topk(max_per_img)
            det_labels = indexes % self.num_classes
            bbox_pred = bbox_pred[indexes // self.num_classes]
        else:
            scores, det_labels = F.softmax(cls_score, dim=-1)[..., :-1].max(-1)
            scores, bbox_index = scores.topk(max_per_img)
            bbox_pred = bbox_pred[bbox_index]
            det_labels = det_labels[bbox_index]
        det_bboxes = bbox_cxcywh_to_xyxy(bbox_pred)
        det_bboxes[:, 0::2] = (det_bboxes[:, 0::2] * img_shape[1]).clamp(min=0, max=img_shape[1])
        det_bboxes[:, 1::2] = (det_bboxes[:, 1::2] * img_shape[0]).clamp(min=0, max=img_shape[0])
        if rescale:
            det_bboxes /= det_bboxes.new_tensor(scale_factor)
        return torch.cat((det_bboxes, scores.unsqueeze(1)), -1), det_labels

    def simple_test(self, feats: tuple[Tensor, ...], img_metas: list[dict],
                    rescale: bool = False) -> list[tuple[Tensor, Tensor]]:
        """Detections of each image: ``(dets: Tensor[n, 5], labels: Tensor[n])``."""
        return self.get_bboxes(*self(feats, img_metas), img_metas, rescale=rescale)

    simple_test_bboxes = simple_test
