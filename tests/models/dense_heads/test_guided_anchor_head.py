"""GuidedAnchorHead, GARPNHead, GARetinaHead: layout, initialisation, location filtering,
losses and decoding on tiny inputs (numerics against MMDetection:
``tests/models/parity/test_mmdet_reference_ga.py``)."""

import math

import numpy as np
import pytest
import torch

from detbox.models.dense_heads import GARetinaHead, GARPNHead, GuidedAnchorHead

APPROX = dict(type="AnchorGenerator", octave_base_scale=4, scales_per_octave=2,
              ratios=[0.5, 1.0], strides=[8, 16])
SQUARE = dict(type="AnchorGenerator", ratios=[1.0], scales=[4], strides=[8, 16])
TRAIN_CFG = dict(
    assigner=dict(type="MaxIoUAssigner", pos_iou_thr=0.5, neg_iou_thr=0.5, min_pos_iou=0.0,
                  ignore_iof_thr=-1),
    allowed_border=-1, pos_weight=-1, debug=False,
    ga_assigner=dict(type="ApproxMaxIoUAssigner", pos_iou_thr=0.5, neg_iou_thr=0.4,
                     min_pos_iou=0.4, ignore_iof_thr=-1),
    ga_sampler=dict(type="RandomSampler", num=256, pos_fraction=0.5, neg_pos_ub=-1,
                    add_gt_as_proposals=False),
    center_ratio=0.2, ignore_ratio=0.5)
TEST_CFG = dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05,
                nms=dict(type="nms", iou_threshold=0.5), max_per_img=100)
RPN_TEST_CFG = dict(nms_pre=1000, max_per_img=30, nms=dict(type="nms", iou_threshold=0.7),
                    min_bbox_size=0, nms_post=100)
FOCAL = dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0)


def meta(h=64, w=64):
    return dict(img_shape=(h, w, 3), pad_shape=(h, w, 3), scale_factor=np.ones(4, np.float32))


def retina(**kwargs):
    torch.manual_seed(0)
    head = GARetinaHead(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1,
                        approx_anchor_generator=APPROX, square_anchor_generator=SQUARE,
                        loss_cls=FOCAL, train_cfg=TRAIN_CFG, test_cfg=TEST_CFG, **kwargs)
    head.init_weights()
    return head


def rpn(**kwargs):
    torch.manual_seed(0)
    cfg = dict(TRAIN_CFG, sampler=dict(type="RandomSampler", num=64, pos_fraction=0.5,
                                       neg_pos_ub=-1, add_gt_as_proposals=False))
    head = GARPNHead(in_channels=8, feat_channels=8, approx_anchor_generator=APPROX,
                     square_anchor_generator=SQUARE, train_cfg=cfg, test_cfg=RPN_TEST_CFG,
                     **kwargs)
    head.init_weights()
    return head


_GEN = torch.Generator().manual_seed(0)
FEATS = (torch.randn(2, 8, 8, 8, generator=_GEN), torch.randn(2, 8, 4, 4, generator=_GEN))
GTS = [torch.tensor([[4.0, 6.0, 40.0, 30.0], [30.0, 30.0, 62.0, 60.0]]),
       torch.tensor([[10.0, 10.0, 20.0, 22.0]])]
LABELS = [torch.tensor([0, 2]), torch.tensor([1])]


def test_layouts_are_mmdetections():
    keys = list(GuidedAnchorHead(num_classes=2, in_channels=4, feat_channels=6).state_dict())
    assert keys == ["conv_loc.weight", "conv_loc.bias", "conv_shape.weight", "conv_shape.bias",
                    "feature_adaption.conv_offset.weight",
                    "feature_adaption.conv_adaption.weight", "conv_cls.weight", "conv_cls.bias",
                    "conv_reg.weight", "conv_reg.bias"]
    head = GARetinaHead(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1)
    sd = head.state_dict()
    assert tuple(sd["feature_adaption_cls.conv_offset.weight"].shape) == (72, 2, 1, 1)
    assert tuple(sd["retina_cls.weight"].shape) == (3, 8, 3, 3)
    assert "rpn_conv.weight" in GARPNHead(in_channels=4, feat_channels=4).state_dict()


def test_init_weights():
    head = retina()
    assert head.conv_loc.bias.detach().allclose(torch.tensor(-math.log(99)))
    assert head.retina_cls.bias.detach().allclose(torch.tensor(-math.log(99)))
    # as MMDetection's BaseDenseHead: every conv_offset starts at zero (the adaption starts as
    # a plain conv)
    assert head.feature_adaption_cls.conv_offset.weight.abs().max() == 0


def test_arguments_are_checked_and_sampling_follows_the_loss_type():
    with pytest.raises(ValueError, match="octave_base_scale"):
        GuidedAnchorHead(num_classes=2, in_channels=4, approx_anchor_generator=APPROX)
    with pytest.raises(ValueError, match="same strides"):
        GuidedAnchorHead(num_classes=2, in_channels=4, approx_anchor_generator=APPROX,
                         square_anchor_generator=dict(SQUARE, strides=[8, 32]))
    assert retina().sampling is False and retina().ga_sampling is True
    head = rpn()
    assert head.sampling is True and type(head.sampler).__name__ == "RandomSampler"
    assert head.num_base_priors == 1 and head.approxs_per_octave == 4


def test_eval_mode_zeroes_the_filtered_locations():
    head = retina(loc_filter_thr=0.5)
    with torch.no_grad():
        head.conv_loc.bias.fill_(0.0)  # about half the locations pass 0.5
        head.eval()
        cls_scores, bbox_preds, shape_preds, loc_preds = head(FEATS)
        head.train()
        train_scores = head(FEATS)[0]
    for cls, box, loc, full in zip(cls_scores, bbox_preds, loc_preds, train_scores):
        keep = (loc.sigmoid() >= 0.5).expand_as(cls)
        assert 0 < keep.float().mean() < 1
        assert (cls[~keep] == 0).all() and (box[~keep.any(1, keepdim=True).expand_as(box)] == 0
                                            ).all()
        torch.testing.assert_close(cls[keep], full[keep])  # per image: image 1's own mask


def test_batched_detections_equal_one_image_at_a_time():
    head = retina()
    head.eval()
    with torch.no_grad():
        head.conv_loc.bias.fill_(-2.0)
        # spread scores (the init's std 0.01 leaves them all near-tied at sigmoid(-2))
        head.retina_cls.weight.normal_(0, 0.3, generator=torch.Generator().manual_seed(1))
        head.retina_cls.bias.fill_(-2.0)
        both = head.get_bboxes(*head(FEATS), img_metas=[meta(), meta()])
        alone = head.get_bboxes(*head(tuple(f[1:] for f in FEATS)), img_metas=[meta()])
    assert len(both) == 2 and both[1][0].shape[0] > 0
    torch.testing.assert_close(both[1][0], alone[0][0])
    torch.testing.assert_close(both[1][1], alone[0][1])


def test_nothing_passes_the_location_filter():
    head = retina(loc_filter_thr=1.1)
    head.eval()
    with torch.no_grad():
        (dets, labels), = head.simple_test(tuple(f[:1] for f in FEATS), [meta()])
    assert dets.shape == (0, 5) and labels.shape == (0,)


def test_retina_losses_are_finite_and_train_every_branch():
    head = retina()
    outs = head(FEATS)
    losses = head.loss(*outs, GTS, LABELS, [meta(), meta()])
    assert set(losses) == {"loss_cls", "loss_bbox", "loss_shape", "loss_loc"}
    assert all(len(v) == 2 for v in losses.values())  # one per level
    total = sum(sum(v) for v in losses.values())
    assert torch.isfinite(total) and sum(losses["loss_shape"]) > 0
    total.backward()
    for name in ("conv_loc", "conv_shape", "retina_cls", "retina_reg"):
        assert getattr(head, name).weight.grad.abs().sum() > 0, name
    assert head.feature_adaption_cls.conv_adaption.weight.grad.abs().sum() > 0


def test_rpn_losses_and_proposals():
    head = rpn()
    outs = head(FEATS)
    losses = head.loss(*outs, GTS, [meta(), meta()])
    assert set(losses) == {"loss_rpn_cls", "loss_rpn_bbox", "loss_anchor_shape",
                           "loss_anchor_loc"}
    assert torch.isfinite(sum(sum(v) for v in losses.values()))
    head.eval()
    with torch.no_grad():
        head.conv_loc.bias.fill_(0.0)
        proposals = head.simple_test_rpn(FEATS, [meta(), meta()])
    assert len(proposals) == 2
    for p in proposals:
        assert p.shape[1] == 5 and 0 < p.shape[0] <= 30
        assert (p[1:, 4] <= p[:-1, 4]).all()  # best first
        assert (p[:, :4] >= 0).all() and (p[:, 2:4] <= 64).all()  # clipped to the image


def test_rpn_deprecated_test_cfg_names():
    head = rpn()
    head.eval()
    old = dict(nms_pre=1000, max_num=30, nms_thr=0.7, min_bbox_size=0, nms_post=100)
    with torch.no_grad():
        outs = head(tuple(f[:1] for f in FEATS))
        new = head.get_bboxes(*outs, img_metas=[meta()])[0]
        with pytest.warns(DeprecationWarning, match="nms_thr"):
            legacy = head.get_bboxes(*outs, img_metas=[meta()], cfg=old)[0]
    torch.testing.assert_close(new, legacy)
    with pytest.raises(ValueError, match="only supports nms type 'nms'"):
        head.get_bboxes(*outs, img_metas=[meta()],
                        cfg=dict(RPN_TEST_CFG, nms=dict(type="soft_nms", iou_threshold=0.7)))


def test_training_without_a_train_cfg_is_a_clear_error():
    head = GARetinaHead(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1,
                        approx_anchor_generator=APPROX, square_anchor_generator=SQUARE)
    with pytest.raises(ValueError, match="GARetinaHead: training needs a train_cfg"):
        head.loss(*head(FEATS), GTS, LABELS, [meta(), meta()])


def test_an_image_without_ground_truths_trains():
    gts = [GTS[0], torch.zeros(0, 4)]
    labels = [LABELS[0], torch.zeros(0, dtype=torch.long)]
    head = retina()
    losses = head.loss(*head(FEATS), gts, labels, [meta(), meta()])
    assert all(torch.isfinite(v).all() for levels in losses.values() for v in levels)
    assert sum(losses["loss_loc"]) > 0  # the negatives still train the location branch


def test_candidates_without_nms_are_not_supported():
    head = retina()
    head.eval()
    with torch.no_grad(), pytest.raises(NotImplementedError, match="with_nms=False"):
        head.get_bboxes(*head(FEATS), img_metas=[meta(), meta()], with_nms=False)
