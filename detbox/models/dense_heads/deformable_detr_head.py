"""``DeformableDETRHead``: DETR's head over several levels, with deformable attention.

One classification and one regression branch per decoder layer (shared unless
``with_box_refine``; one more for the encoder's proposals with ``as_two_stage``). Box outputs
are offsets added to the inverse sigmoid of each layer's reference points. Two-stage training
adds ``enc_loss_*`` on the encoder's proposals, matched class-agnostically (label 0).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...registry import MODELS
from ..layers.transformer import inverse_sigmoid
from ..utils import force_fp32
from ..weight_init import bias_init_with_prob, constant_init
from .detr_head import DETRHead, padding_masks

__all__ = ["DeformableDETRHead"]


@MODELS.register_module()
class DeformableDETRHead(DETRHead):
    """Deformable DETR's head (MMDetection 2.x arguments and state_dict).

    Args:
        with_box_refine: refine the reference points layer by layer (separate branches).
        as_two_stage: take the queries from the encoder's proposals (sets the transformer's
            ``as_two_stage``).
        transformer: ``DeformableDetrTransformer`` config.
        **kwargs: :class:`DETRHead` arguments.
    """

    def __init__(self, *args, with_box_refine: bool = False, as_two_stage: bool = False,
                 transformer: dict | None = None, **kwargs) -> None:
        self.with_box_refine = with_box_refine
        self.as_two_stage = as_two_stage
        if as_two_stage and transformer is not None:
            transformer = {**transformer, "as_two_stage": True}
        super().__init__(*args, transformer=transformer, **kwargs)

    def _init_layers(self) -> None:
        fc_cls = nn.Linear(self.embed_dims, self.cls_out_channels)
        reg_layers: list[nn.Module] = []
        for _ in range(self.num_reg_fcs):
            reg_layers += [nn.Linear(self.embed_dims, self.embed_dims), nn.ReLU()]
        reg_layers.append(nn.Linear(self.embed_dims, 4))
        reg_branch = nn.Sequential(*reg_layers)
        num_pred = self.transformer.decoder.num_layers + (1 if self.as_two_stage else 0)
        if self.with_box_refine:
            self.cls_branches = nn.ModuleList(copy.deepcopy(fc_cls) for _ in range(num_pred))
            self.reg_branches = nn.ModuleList(copy.deepcopy(reg_branch)
                                              for _ in range(num_pred))
        else:  # one module shared by every layer (state_dict keys repeat)
            self.cls_branches = nn.ModuleList([fc_cls] * num_pred)
            self.reg_branches = nn.ModuleList([reg_branch] * num_pred)
        if not self.as_two_stage:
            self.query_embedding = nn.Embedding(self.num_query, self.embed_dims * 2)

    def init_weights(self) -> None:
        """Transformer init; focal-prior class biases; zero last regression layers, the first
        with ``-2`` size biases (0 in two-stage mode)."""
        self.transformer.init_weights()
        if self.loss_cls.use_sigmoid:
            bias = bias_init_with_prob(0.01)
            for m in self.cls_branches:
                nn.init.constant_(m.bias, bias)
        for m in self.reg_branches:
            constant_init(m[-1], 0, bias=0)
        nn.init.constant_(self.reg_branches[0][-1].bias.data[2:], -2.0)
        if self.as_two_stage:
            for m in self.reg_branches:
                nn.init.constant_(m[-1].bias.data[2:], 0.0)

    def forward(self, mlvl_feats: tuple[Tensor, ...], img_metas: list[dict]) -> tuple:
        """``(all_cls_scores [layers, B, Q, C], all_bbox_preds [layers, B, Q, 4],
        enc_cls_scores, enc_bbox_preds)``; the encoder's outputs are ``None`` unless
        two-stage (then ``[B, num_keys, C]`` and ``[B, num_keys, 4]``)."""
        img_masks = padding_masks(img_metas, mlvl_feats[0])
        mlvl_masks, mlvl_pos = [], []
        for feat in mlvl_feats:
            mlvl_masks.append(F.interpolate(img_masks[None], size=feat.shape[-2:])
                              .to(torch.bool).squeeze(0))
            mlvl_pos.append(self.positional_encoding(mlvl_masks[-1]))
        query_embeds = None if self.as_two_stage else self.query_embedding.weight
        hs, init_reference, inter_references, enc_cls, enc_coord = self.transformer(
            mlvl_feats, mlvl_masks, query_embeds, mlvl_pos,
            reg_branches=self.reg_branches if self.with_box_refine else None,
            cls_branches=self.cls_branches if self.as_two_stage else None)
        hs = hs.permute(0, 2, 1, 3)  # [layers, B, Q, c]
        outputs_classes, outputs_coords = [], []
        for lvl in range(hs.shape[0]):
            reference = inverse_sigmoid(init_reference if lvl == 0
                                        else inter_references[lvl - 1])
            outputs_classes.append(self.cls_branches[lvl](hs[lvl]))
            tmp = self.reg_branches[lvl](hs[lvl])
            if reference.shape[-1] == 4:
                tmp = tmp + reference
            else:
                tmp = torch.cat([tmp[..., :2] + reference, tmp[..., 2:]], -1)
            outputs_coords.append(tmp.sigmoid())
        outputs_classes = torch.stack(outputs_classes)
        outputs_coords = torch.stack(outputs_coords)
        if self.as_two_stage:
            return outputs_classes, outputs_coords, enc_cls, enc_coord.sigmoid()
        return outputs_classes, outputs_coords, None, None

    @force_fp32
    def loss(self, all_cls_scores: Tensor, all_bbox_preds: Tensor,
             enc_cls_scores: Tensor | None, enc_bbox_preds: Tensor | None,
             gt_bboxes_list: list[Tensor], gt_labels_list: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: Any = None) -> dict:
        """Decoder layers' losses, plus ``enc_loss_*`` of the encoder's proposals."""
        if gt_bboxes_ignore is not None:
            raise ValueError(f"{type(self).__name__} only supports gt_bboxes_ignore=None")
        loss_dict: dict = {}
        if enc_cls_scores is not None:
            binary_labels = [torch.zeros_like(labels) for labels in gt_labels_list]
            enc_cls, enc_bbox, enc_iou = self.loss_single(
                enc_cls_scores, enc_bbox_preds, gt_bboxes_list, binary_labels, img_metas)
            loss_dict["enc_loss_cls"] = enc_cls
            loss_dict["enc_loss_bbox"] = enc_bbox
            loss_dict["enc_loss_iou"] = enc_iou
        return self._decoder_losses(all_cls_scores, all_bbox_preds, gt_bboxes_list,
                                    gt_labels_list, img_metas, loss_dict=loss_dict)

    @force_fp32
    def get_bboxes(self, all_cls_scores: Tensor, all_bbox_preds: Tensor,
                   enc_cls_scores: Tensor | None, enc_bbox_preds: Tensor | None,
                   img_metas: list[dict], rescale: bool = False) -> list[tuple[Tensor, Tensor]]:
        """Detections of the last decoder layer, per image."""
        return self._last_layer_bboxes(all_cls_scores[-1], all_bbox_preds[-1], img_metas,
                                       rescale)
