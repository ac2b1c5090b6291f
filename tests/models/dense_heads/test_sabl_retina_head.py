"""SABLRetinaHead: layout, approx inside flags, bucket targets and losses, decoding."""

import math

import numpy as np
import pytest
import torch

from detbox.models.dense_heads import SABLRetinaHead
from detbox.models.dense_heads.sabl_retina_head import approx_inside_flags
from detbox.models.task_modules.coders import BucketingBBoxCoder

APPROX = dict(type="AnchorGenerator", octave_base_scale=2, scales_per_octave=2,
              ratios=[0.5, 1.0], strides=[8])
SQUARE = dict(type="AnchorGenerator", ratios=[1.0], scales=[2], strides=[8])
TRAIN_CFG = dict(assigner=dict(type="ApproxMaxIoUAssigner", pos_iou_thr=0.5, neg_iou_thr=0.4,
                               min_pos_iou=0.0, ignore_iof_thr=-1),
                 allowed_border=-1, pos_weight=-1, debug=False)
TEST_CFG = dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05,
                nms=dict(type="nms", iou_threshold=0.5), max_per_img=100)


def small_head(**kwargs):
    return SABLRetinaHead(num_classes=2, in_channels=4, feat_channels=4, stacked_convs=1,
                          approx_anchor_generator=APPROX, square_anchor_generator=SQUARE,
                          bbox_coder=dict(type="BucketingBBoxCoder", num_buckets=6,
                                          scale_factor=2.0),
                          train_cfg=TRAIN_CFG, test_cfg=TEST_CFG, **kwargs)


def test_layout_and_init():
    head = SABLRetinaHead(num_classes=80, in_channels=256)
    sd = head.state_dict()
    assert tuple(sd["retina_cls.weight"].shape) == (80, 256, 3, 3)
    assert tuple(sd["retina_bbox_cls.weight"].shape) == (28, 256, 3, 3)
    assert tuple(sd["retina_bbox_reg.weight"].shape) == (28, 256, 3, 3)
    assert "retina_reg.weight" not in sd and len(sd) == 2 * 4 * 2 + 6
    assert head.approxs_per_octave == 9 and head.num_base_priors == 1
    assert not head.sampling  # focal loss
    head.init_weights()
    assert head.retina_cls.bias.detach().allclose(torch.tensor(-math.log(99)))
    assert 0.008 < head.retina_bbox_reg.weight.std().item() < 0.012


def test_generators_must_agree():
    with pytest.raises(ValueError, match="octave_base_scale"):
        SABLRetinaHead(num_classes=2, in_channels=4, square_anchor_generator=dict(
            type="AnchorGenerator", ratios=[1.0], scales=[8], strides=[8, 16, 32, 64, 128]))
    with pytest.raises(ValueError, match="strides"):
        SABLRetinaHead(num_classes=2, in_channels=4, square_anchor_generator=dict(
            type="AnchorGenerator", ratios=[1.0], scales=[4], strides=[8, 16, 32, 64]))


def test_approx_inside_flags_any_approx_of_a_location():
    approxs = torch.tensor([[0.0, 0, 10, 10], [-5, 0, 10, 10],  # location 0: one inside
                            [-5.0, 0, 10, 10], [0, 0, 30, 10]])  # location 1: none inside
    valid = torch.tensor([True, True, True, True])
    flags = approx_inside_flags(approxs, valid, 2, (20, 20, 3), allowed_border=0)
    assert flags.tolist() == [True, False]
    assert approx_inside_flags(approxs, valid, 2, (20, 20, 3), -1).tolist() == [True, True]


def test_bucket_targets_and_losses():
    head = small_head()
    # one level of 4x4 locations, stride 8, 16x16 squares; a ground truth on location (1, 1)
    meta = dict(img_shape=(32, 32, 3), pad_shape=(32, 32, 3))
    gt = torch.tensor([[1.0, 2.0, 17.0, 15.0]])
    approxs, inside = head.get_sampled_approxs([(4, 4)], [meta])
    squares = head.get_squares([(4, 4)], [meta])
    assert approxs[0][0].shape == (16 * 4, 4) and inside[0][0].shape == (16,)
    targets = head.get_bucket_targets(approxs, inside, squares, [gt], [meta],
                                      gt_labels_list=[torch.tensor([1])])
    labels, label_weights, cls_t, cls_w, off_t, off_w, num_pos, num_neg = targets
    pos = (labels[0][0] == 1).nonzero().view(-1)
    assert pos.numel() >= 1 and num_pos == pos.numel()
    assert (label_weights[0][0][pos] == 1).all()
    assert set(labels[0][0].tolist()) == {1, 2}  # positives and background (num_classes)
    coder = BucketingBBoxCoder(num_buckets=6, scale_factor=2.0)
    offsets, offset_weights, bucket_labels, bucket_weights = coder.encode(
        squares[0][0][pos], gt.expand(pos.numel(), 4))
    torch.testing.assert_close(cls_t[0][0][pos], bucket_labels)
    torch.testing.assert_close(off_t[0][0][pos], offsets)
    torch.testing.assert_close(off_w[0][0][pos], offset_weights)
    torch.testing.assert_close(cls_w[0][0][pos], bucket_weights)
    assert cls_t[0][0][labels[0][0] == 2].abs().sum() == 0  # negatives: no bucket targets

    torch.manual_seed(0)
    feats = [torch.randn(1, 4, 4, 4)]
    losses = head.forward_train(feats, [meta], [gt], [torch.tensor([1])])
    assert set(losses) == {"loss_cls", "loss_bbox_cls", "loss_bbox_reg"}
    assert all(v[0] > 0 and torch.isfinite(v[0]) for v in losses.values())
    sum(v[0] for v in losses.values()).backward()
    assert head.retina_bbox_cls.weight.grad.abs().sum() > 0
    # no ground truth: only the classification loss is left
    empty = head.forward_train(feats, [meta], [torch.zeros(0, 4)], [torch.zeros(0).long()])
    assert empty["loss_cls"][0] > 0
    assert empty["loss_bbox_cls"][0] == 0 and empty["loss_bbox_reg"][0] == 0


def test_decoding_multiplies_the_localization_confidence():
    head = small_head()
    cls = torch.full((1, 2, 1, 2), -10.0)
    cls[0, 1, 0, 0] = math.log(0.8 / 0.2)  # square 0 (center (0, 0)), class 1: 0.8
    bucket_cls = torch.zeros(1, 12, 1, 2)  # uniform buckets: confidence 1/3 + 1/3 (neighbour)
    offsets = torch.zeros(1, 12, 1, 2)
    meta = dict(img_shape=(40, 40, 3), scale_factor=np.ones(4, dtype=np.float32))
    (dets, labels), = head.get_bboxes([cls], [(bucket_cls, offsets)], img_metas=[meta])
    assert labels.tolist() == [1]
    boxes, confidence = head.bbox_coder.decode(
        torch.tensor([[-8.0, -8.0, 8.0, 8.0]]), (torch.zeros(1, 12), torch.zeros(1, 12)),
        max_shape=(40, 40, 3))
    torch.testing.assert_close(dets[:, :4], boxes)
    assert dets[0, 4].item() == pytest.approx(0.8 * confidence.item(), rel=1e-5)
    (cand, scores, cand_labels), = head.get_bboxes([cls], [(bucket_cls, offsets)],
                                                   img_metas=[meta], with_nms=False)
    assert cand.shape == (1, 4) and cand_labels.tolist() == [1]
    with pytest.raises(ValueError, match="score factors"):
        head.get_bboxes([cls], [(bucket_cls, offsets)], [cls], img_metas=[meta])
