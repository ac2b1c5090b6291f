"""SABLHead: layout, side-aware split, targets, losses, decoding and cascade refinement."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from detbox.models.roi_heads.bbox_heads import SABLHead
from detbox.models.task_modules.coders import BucketingBBoxCoder

TEST_CFG = dict(score_thr=0.05, nms=dict(type="nms", iou_threshold=0.5), max_per_img=100)


def small_head():
    torch.manual_seed(0)
    return SABLHead(num_classes=3, cls_in_channels=8, reg_in_channels=8, roi_feat_size=7,
                    cls_out_channels=16, reg_offset_out_channels=8, reg_cls_out_channels=8)


def test_layout_of_the_default_head():
    sd = SABLHead(num_classes=80).state_dict()
    assert tuple(sd["cls_fcs.0.weight"].shape) == (1024, 256 * 49)
    assert tuple(sd["fc_cls.weight"].shape) == (81, 1024)
    assert tuple(sd["upsample_x.weight"].shape) == (256, 256, 2)
    assert tuple(sd["reg_post_conv_xs.0.conv.weight"].shape) == (256, 256, 1, 3)
    assert tuple(sd["reg_post_conv_ys.0.conv.weight"].shape) == (256, 256, 3, 1)
    assert tuple(sd["fc_reg_offset.weight"].shape) == (1, 256)
    assert "fc_reg.weight" not in sd and list(sd)[:2] == ["cls_fcs.0.weight", "cls_fcs.0.bias"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_buckets"):
        SABLHead(num_classes=3, roi_feat_size=6)
    with pytest.raises(ValueError, match="reg_class_agnostic"):
        SABLHead(num_classes=3, reg_class_agnostic=False)


def test_side_aware_split_counts_each_side_inwards():
    head = small_head()
    feat = torch.arange(14.0).view(1, 14)
    assert head.side_aware_split(feat).tolist() == [
        [0, 1, 2, 3, 4, 5, 6, 13, 12, 11, 10, 9, 8, 7]]


def test_forward_targets_and_losses():
    head = small_head()
    cls_score, (bucket_cls, bucket_offsets) = head(torch.randn(3, 8, 7, 7))
    assert cls_score.shape == (3, 4) and bucket_cls.shape == bucket_offsets.shape == (3, 28)
    pos = torch.tensor([[0.0, 0.0, 20.0, 20.0]])
    gt = torch.tensor([[2.0, 1.0, 22.0, 18.0]])
    result = SimpleNamespace(pos_bboxes=pos, neg_bboxes=torch.tensor([[30.0, 30, 40, 40]] * 2),
                             pos_gt_bboxes=gt, pos_gt_labels=torch.tensor([2]))
    labels, label_weights, (cls_t, off_t), (cls_w, off_w) = head.get_targets(
        [result], [gt], [torch.tensor([2])], dict(pos_weight=-1))
    assert labels.tolist() == [2, 3, 3] and label_weights.tolist() == [1, 1, 1]
    expected = BucketingBBoxCoder(num_buckets=14, scale_factor=1.7).encode(pos, gt)
    for ours, theirs in zip((off_t, off_w, cls_t, cls_w), expected):
        torch.testing.assert_close(ours[:1], theirs)
        assert ours[1:].abs().sum() == 0
    losses = head.loss(cls_score, (bucket_cls, bucket_offsets), None, labels, label_weights,
                       (cls_t, off_t), (cls_w, off_w))
    assert set(losses) == {"loss_cls", "acc", "loss_bbox_cls", "loss_bbox_reg"}
    assert losses["loss_bbox_cls"] > 0 and losses["loss_bbox_reg"] > 0
    (losses["loss_cls"] + losses["loss_bbox_cls"] + losses["loss_bbox_reg"]).backward()
    assert head.upsample_x.weight.grad.abs().sum() > 0


def test_get_bboxes_scores_with_the_localization_confidence():
    head = small_head()
    rois = torch.tensor([[0.0, 10.0, 10.0, 50.0, 40.0]])
    cls_score = torch.tensor([[0.0, 3.0, 0.0, 0.0]])
    preds = (torch.randn(1, 28), torch.randn(1, 28) * 0.2)
    boxes, confidence = head.bbox_coder.decode(rois[:, 1:], preds, (60, 60, 3))
    scale = np.array([2.0, 2.0, 2.0, 2.0], dtype=np.float32)
    bboxes, scores = head.get_bboxes(rois, cls_score, preds, (60, 60, 3), scale, rescale=True)
    torch.testing.assert_close(bboxes, boxes / 2)
    dets, labels = head.get_bboxes(rois, cls_score, preds, (60, 60, 3), scale, rescale=True,
                                   cfg=TEST_CFG)
    assert labels.tolist() == [1]
    assert dets[0, 4].item() == pytest.approx(scores[0, 1].item() * confidence.item(), rel=1e-6)


def test_refine_bboxes_decodes_and_drops_the_ground_truths():
    head = small_head()
    rois = torch.tensor([[0.0, 0, 0, 20, 20], [0.0, 5, 5, 30, 30], [1.0, 10, 10, 40, 40]])
    preds = (torch.randn(3, 28), torch.randn(3, 28) * 0.2)
    metas = [dict(img_shape=(50, 50, 3)), dict(img_shape=(50, 50, 3))]
    refined = head.refine_bboxes(rois, torch.tensor([0, 1, 3]), preds,
                                 [torch.tensor([1], dtype=torch.uint8),
                                  torch.tensor([0], dtype=torch.uint8)], metas)
    assert [r.shape[0] for r in refined] == [1, 1]  # image 0's first RoI was a ground truth
    expected = head.bbox_coder.decode(rois[1:2, 1:], (preds[0][1:2], preds[1][1:2]),
                                      (50, 50, 3))[0]
    torch.testing.assert_close(refined[0], expected)
    with_index = head.regress_by_class(rois[2:], torch.tensor([0]),
                                       (preds[0][2:], preds[1][2:]), metas[1])
    assert with_index.shape == (1, 5) and with_index[0, 0] == 1
