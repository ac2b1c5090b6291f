"""``CentripetalHead``: CentripetalNet's head (Dong et al., 2020) on :class:`CornerHead`.

CentripetalNet pairs corners by where they point rather than by embeddings. Per level ``i``,
on top of CornerHead's pools, heatmaps and offsets (its embedding branch is off in the
configs, ``corner_emb_channels=0``), each corner type ``{tl,br}`` has:

- ``{tl,br}_guiding_shift.i``: a 3x3 + 1x1 branch predicting the (x, y) vector from the
  corner pixel to the box centre (trained with ``loss_guiding_shift``);
- ``{tl,br}_dcn_offset.i``: a 1x1 conv (no bias) turning the guiding shift (detached) into
  the offsets of ``{tl,br}_feat_adaption.i``, a 3x3 :class:`DeformConv2d` on the pooled
  features ("feature adaption");
- ``{tl,br}_centripetal_shift.i``: a 3x3 + 1x1 branch on the adapted features predicting the
  log of the (x, y) distance from the corner to the centre (``loss_centripetal_shift``).

Both shift losses, like the offset loss, count only at the ground-truth corner pixels.
Testing (:func:`decode_centripetal_heatmap`) keeps a pair when the centres its two corners
point at fall inside the pair's central region.

>>> import torch
>>> head = CentripetalHead(num_classes=3, in_channels=8, num_feat_levels=1,
...                        corner_emb_channels=0)
>>> outs = head([torch.zeros(1, 8, 6, 6)])  # heatmaps, offsets, guiding, centripetal shifts
>>> [tuple(o[0].shape[:2]) for o in outs]
[(1, 3), (1, 3), (1, 2), (1, 2), (1, 2), (1, 2), (1, 2), (1, 2)]
"""

from __future__ import annotations

from math import log
from typing import Any, Sequence

from torch import Tensor, nn

from ...registry import MODELS
from ..builder import build_model
from ..layers import ConvModule, DeformConv2d
from ..utils import force_fp32, multi_apply
from ..weight_init import normal_init
from .corner_decode import decode_centripetal_heatmap
from .corner_head import CornerHead

__all__ = ["CentripetalHead"]

_BRANCHES = ("feat_adaption", "dcn_offset", "guiding_shift", "centripetal_shift")


@MODELS.register_module()
class CentripetalHead(CornerHead):
    """CentripetalNet's head; :class:`CornerHead`'s arguments plus:

    Args:
        centripetal_shift_channels: must be 2 (x, y), as in MMDetection.
        guiding_shift_channels: must be 2 (x, y).
        feat_adaption_conv_kernel: kernel of the deformable feature adaption.
        loss_guiding_shift: loss of the guiding shifts (smooth L1, weight 0.05).
        loss_centripetal_shift: loss of the centripetal shifts (smooth L1, weight 1).
        *args, **kwargs: :class:`CornerHead`'s (``init_cfg`` must be ``None``).
    """

    def __init__(self, *args: Any, centripetal_shift_channels: int = 2,
                 guiding_shift_channels: int = 2, feat_adaption_conv_kernel: int = 3,
                 loss_guiding_shift: dict = dict(  # noqa: B006 (never mutated)
                     type="SmoothL1Loss", beta=1.0, loss_weight=0.05),
                 loss_centripetal_shift: dict = dict(  # noqa: B006
                     type="SmoothL1Loss", beta=1.0, loss_weight=1),
                 init_cfg: dict | list | None = None, **kwargs: Any) -> None:
        for name, value in (("centripetal_shift_channels", centripetal_shift_channels),
                            ("guiding_shift_channels", guiding_shift_channels)):
            if value != 2:
                raise ValueError(f"CentripetalHead only supports {name} == 2, got {value}")
        self.centripetal_shift_channels = centripetal_shift_channels
        self.guiding_shift_channels = guiding_shift_channels
        self.feat_adaption_conv_kernel = feat_adaption_conv_kernel
        super().__init__(*args, init_cfg=init_cfg, **kwargs)
        self.loss_guiding_shift = build_model(loss_guiding_shift)
        self.loss_centripetal_shift = build_model(loss_centripetal_shift)

    def _init_layers(self) -> None:
        """CornerHead's layers, then per corner type and level the four centripetal branches
        (registered in MMDetection's order: feat_adaption, dcn_offset, guiding, centripetal)."""
        super()._init_layers()
        ch, kernel = self.in_channels, self.feat_adaption_conv_kernel
        for branch in _BRANCHES:
            for prefix in ("tl", "br"):
                setattr(self, f"{prefix}_{branch}", nn.ModuleList())
        for _ in range(self.num_feat_levels):
            for prefix in ("tl", "br"):
                getattr(self, f"{prefix}_feat_adaption").append(
                    DeformConv2d(ch, ch, kernel, 1, 1))
                getattr(self, f"{prefix}_guiding_shift").append(
                    self._make_layers(self.guiding_shift_channels, ch))
                getattr(self, f"{prefix}_dcn_offset").append(ConvModule(
                    self.guiding_shift_channels, kernel ** 2 * self.guiding_shift_channels, 1,
                    bias=False, act_cfg=None))
                getattr(self, f"{prefix}_centripetal_shift").append(
                    self._make_layers(self.centripetal_shift_channels, ch))

    def init_weights(self) -> None:
        """CornerHead's init; feature adaption N(0, 0.01), deform offsets N(0, 0.1), PyTorch's
        default for the shift branches."""
        super().init_weights()
        for i in range(self.num_feat_levels):
            for prefix in ("tl", "br"):
                normal_init(getattr(self, f"{prefix}_feat_adaption")[i], std=0.01)
                normal_init(getattr(self, f"{prefix}_dcn_offset")[i].conv, std=0.1)
                for branch in ("guiding_shift", "centripetal_shift"):
                    for layer in getattr(self, f"{prefix}_{branch}")[i]:
                        layer.conv.reset_parameters()

    def forward_single(self, x: Tensor, lvl_ind: int, return_pool: bool = False) -> list:
        """``tl_heat, br_heat, tl_off, br_off, tl_guiding_shift, br_guiding_shift,
        tl_centripetal_shift, br_centripetal_shift`` of one level (``[N, C or 2, H, W]``)."""
        tl_heat, br_heat, _, _, tl_off, br_off, tl_pool, br_pool = super().forward_single(
            x, lvl_ind, return_pool=True)
        result = [tl_heat, br_heat, tl_off, br_off]
        guiding, centripetal = [], []
        for prefix, pool in (("tl", tl_pool), ("br", br_pool)):
            guiding_shift = getattr(self, f"{prefix}_guiding_shift")[lvl_ind](pool)
            dcn_offset = getattr(self, f"{prefix}_dcn_offset")[lvl_ind](guiding_shift.detach())
            adapted = getattr(self, f"{prefix}_feat_adaption")[lvl_ind](pool, dcn_offset)
            guiding.append(guiding_shift)
            centripetal.append(getattr(self, f"{prefix}_centripetal_shift")[lvl_ind](adapted))
        return result + guiding + centripetal

    def get_targets(self, gt_bboxes: list[Tensor], gt_labels: list[Tensor],
                    feat_shape: Sequence[int], img_shape: Sequence[int],
                    with_corner_emb: bool = False, with_guiding_shift: bool = False,
                    with_centripetal_shift: bool = False) -> dict:
        """CornerHead's targets plus, at each ground-truth corner pixel, optionally:
        ``{topleft,bottomright}_guiding_shift`` ``[B, 2, H, W]`` (centre minus corner pixel
        for top-left, corner pixel minus centre for bottom-right, feature pixels) and
        ``{topleft,bottomright}_centripetal_shift`` (log of the distance from the exact
        corner to the centre). Later boxes overwrite earlier ones at a shared pixel."""
        targets = super().get_targets(gt_bboxes, gt_labels, feat_shape, img_shape,
                                      with_corner_emb=True)
        match = targets["corner_embedding"] if with_corner_emb else targets.pop(
            "corner_embedding")
        if not (with_guiding_shift or with_centripetal_shift):
            return targets
        batch_size, _, height, width = feat_shape
        img_h, img_w = img_shape[:2]
        width_ratio, height_ratio = float(width / img_w), float(height / img_h)
        ref = gt_bboxes[-1]
        tl_guiding, br_guiding, tl_centripetal, br_centripetal = (
            ref.new_zeros([batch_size, 2, height, width]) for _ in range(4))
        for b in range(batch_size):
            for box, ((top_idx, left_idx), (bottom_idx, right_idx)) in zip(gt_bboxes[b],
                                                                           match[b]):
                left, top, right, bottom = box  # 0-d tensors: float32 as MMDetection
                s_cx = (left + right) / 2.0 * width_ratio
                s_cy = (top + bottom) / 2.0 * height_ratio
                s_left, s_right = left * width_ratio, right * width_ratio
                s_top, s_bottom = top * height_ratio, bottom * height_ratio
                tl_guiding[b, 0, top_idx, left_idx] = s_cx - left_idx
                tl_guiding[b, 1, top_idx, left_idx] = s_cy - top_idx
                br_guiding[b, 0, bottom_idx, right_idx] = right_idx - s_cx
                br_guiding[b, 1, bottom_idx, right_idx] = bottom_idx - s_cy
                tl_centripetal[b, 0, top_idx, left_idx] = log(float(s_cx - s_left))
                tl_centripetal[b, 1, top_idx, left_idx] = log(float(s_cy - s_top))
                br_centripetal[b, 0, bottom_idx, right_idx] = log(float(s_right - s_cx))
                br_centripetal[b, 1, bottom_idx, right_idx] = log(float(s_bottom - s_cy))
        if with_guiding_shift:
            targets.update(topleft_guiding_shift=tl_guiding,
                           bottomright_guiding_shift=br_guiding)
        if with_centripetal_shift:
            targets.update(topleft_centripetal_shift=tl_centripetal,
                           bottomright_centripetal_shift=br_centripetal)
        return targets

    @force_fp32
    def loss(self, tl_heats: list[Tensor], br_heats: list[Tensor], tl_offs: list[Tensor],
             br_offs: list[Tensor], tl_guiding_shifts: list[Tensor],
             br_guiding_shifts: list[Tensor], tl_centripetal_shifts: list[Tensor],
             br_centripetal_shifts: list[Tensor], gt_bboxes: list[Tensor],
             gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict[str, list[Tensor]]:
        """``det_loss``, ``off_loss``, ``guiding_loss``, ``centripetal_loss``, one per level,
        all levels against the targets sized on the last one."""
        targets = self.get_targets(gt_bboxes, gt_labels, tl_heats[-1].shape,
                                   img_metas[0]["pad_shape"],
                                   with_corner_emb=self.with_corner_emb,
                                   with_guiding_shift=True, with_centripetal_shift=True)
        det, off, guiding, centripetal = multi_apply(
            self.loss_single, tl_heats, br_heats, tl_offs, br_offs, tl_guiding_shifts,
            br_guiding_shifts, tl_centripetal_shifts, br_centripetal_shifts,
            [targets] * self.num_feat_levels)
        return dict(det_loss=det, off_loss=off, guiding_loss=guiding,
                    centripetal_loss=centripetal)

    def loss_single(self, tl_hmp: Tensor, br_hmp: Tensor, tl_off: Tensor, br_off: Tensor,
                    tl_guiding_shift: Tensor, br_guiding_shift: Tensor,
                    tl_centripetal_shift: Tensor, br_centripetal_shift: Tensor,
                    targets: dict) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Losses of one level: detection and offset (CornerHead's), guiding and centripetal
        shifts (each the mean of both corners, at the ground-truth corner pixels)."""
        det_loss, _, _, off_loss = CornerHead.loss_single(
            self, tl_hmp, br_hmp, None, None, tl_off, br_off, targets)
        masks = [targets[f"{corner}_heatmap"].eq(1).sum(1).gt(0).unsqueeze(1).type_as(tl_hmp)
                 for corner in ("topleft", "bottomright")]  # [B, 1, H, W] each
        shifts = []
        for loss, preds, name in (
                (self.loss_guiding_shift, (tl_guiding_shift, br_guiding_shift), "guiding"),
                (self.loss_centripetal_shift, (tl_centripetal_shift, br_centripetal_shift),
                 "centripetal")):
            tl_loss, br_loss = (
                loss(pred, targets[f"{corner}_{name}_shift"], mask, avg_factor=mask.sum())
                for pred, corner, mask in zip(preds, ("topleft", "bottomright"), masks))
            shifts.append((tl_loss + br_loss) / 2.0)
        return det_loss, off_loss, shifts[0], shifts[1]

    @force_fp32
    def get_bboxes(self, tl_heats: list[Tensor], br_heats: list[Tensor], tl_offs: list[Tensor],
                   br_offs: list[Tensor], tl_guiding_shifts: list[Tensor],
                   br_guiding_shifts: list[Tensor], tl_centripetal_shifts: list[Tensor],
                   br_centripetal_shifts: list[Tensor], img_metas: list,
                   rescale: bool = False, with_nms: bool = True) -> list[tuple[Tensor, Tensor]]:
        """Per image ``(dets: Tensor[n, 5], labels: Tensor[n])`` from the last level (the
        guiding shifts are not used at test time)."""
        if not tl_heats[-1].shape[0] == br_heats[-1].shape[0] == len(img_metas):
            raise ValueError("CentripetalHead.get_bboxes: one img_meta per image is needed")
        cfg = self.test_cfg
        results = []
        for i, img_meta in enumerate(img_metas):
            if isinstance(img_meta, (list, tuple)):
                img_meta = img_meta[0]
            one = slice(i, i + 1)
            bboxes, scores, clses = decode_centripetal_heatmap(
                tl_heats[-1][one].sigmoid(), br_heats[-1][one].sigmoid(), tl_offs[-1][one],
                br_offs[-1][one], tl_centripetal_shifts[-1][one],
                br_centripetal_shifts[-1][one], img_meta, k=cfg["corner_topk"],
                kernel=cfg["local_maximum_kernel"],
                distance_threshold=cfg["distance_threshold"])
            results.append(self._finish_dets(bboxes, scores, clses, img_meta, rescale,
                                             with_nms))
        return results
