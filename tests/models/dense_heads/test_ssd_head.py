"""SSDHead: layout (plain and SSDLite), hard negative mining, softmax test path."""

import torch

from detbox.models.dense_heads import SSDHead

ANCHORS = dict(type="SSDAnchorGenerator", scale_major=False, strides=[8, 16],
               ratios=[[2], [2, 3]], min_sizes=[8, 16], max_sizes=[16, 32])
TRAIN_CFG = dict(assigner=dict(type="MaxIoUAssigner", pos_iou_thr=0.5, neg_iou_thr=0.5,
                               min_pos_iou=0.0, ignore_iof_thr=-1, gt_max_assign_all=False),
                 smoothl1_beta=1.0, allowed_border=-1, pos_weight=-1, neg_pos_ratio=3)
TEST_CFG = dict(nms_pre=100, nms=dict(type="nms", iou_threshold=0.45), min_bbox_size=0,
                score_thr=0.02, max_per_img=10)


def head(**kwargs):
    args = dict(num_classes=2, in_channels=(4, 4), anchor_generator=ANCHORS,
                train_cfg=TRAIN_CFG, test_cfg=TEST_CFG,
                bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4,
                                target_stds=[0.1, 0.1, 0.2, 0.2]))
    args.update(kwargs)
    return SSDHead(**args)


def test_layout_plain_and_lite():
    sd = head().state_dict()
    assert tuple(sd["cls_convs.0.0.weight"].shape) == (4 * 3, 4, 3, 3)
    assert tuple(sd["reg_convs.1.0.weight"].shape) == (6 * 4, 4, 3, 3)
    lite = head(use_depthwise=True, norm_cfg=dict(type="BN"), act_cfg=dict(type="ReLU6"))
    sd = lite.state_dict()
    assert tuple(sd["cls_convs.0.0.conv.weight"].shape) == (4, 1, 3, 3)  # depthwise
    assert tuple(sd["cls_convs.0.1.weight"].shape) == (4 * 3, 4, 1, 1)


def test_hard_negatives_are_three_per_positive():
    h = head()
    num = 10
    labels = torch.full((num,), 2)  # background is class 2
    labels[0] = 1
    cls_score = torch.zeros(num, 3)
    cls_score[:, 2] = torch.arange(num, dtype=torch.float)  # higher bg logit: easier negative
    loss_cls, _ = h.loss_single(cls_score, torch.zeros(num, 4), torch.zeros(num, 4), labels,
                                torch.ones(num), torch.zeros(num, 4), torch.zeros(num, 4), 1)
    ce = torch.nn.functional.cross_entropy(cls_score, labels, reduction="none")
    assert torch.allclose(loss_cls, (ce[0] + ce[1:4].sum())[None])  # the 3 hardest negatives


def test_losses_and_detections():
    torch.manual_seed(0)
    h = head()
    feats = [torch.randn(1, 4, 8, 8), torch.randn(1, 4, 4, 4)]
    metas = [dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3), scale_factor=[1.0] * 4)]
    losses = h.loss(*h(feats), [torch.tensor([[8.0, 8.0, 24.0, 24.0]])], [torch.tensor([1])],
                    metas)
    assert len(losses["loss_cls"]) == 1 and float(losses["loss_cls"][0].detach()) > 0
    assert float(losses["loss_bbox"][0].detach()) > 0
    dets, labels = h.get_bboxes(*h(feats), img_metas=metas)[0]
    assert dets.shape[1] == 5 and len(dets) <= 10 and bool((labels < 2).all())
