"""YOLOXHead: layout, init, decoding, score threshold on cls x obj, targets and losses."""

import math

import torch

from detbox.models.dense_heads import YOLOXHead
from detbox.models.dense_heads.yolox_head import yolox_decode

TRAIN_CFG = dict(assigner=dict(type="SimOTAAssigner", center_radius=2.5))
TEST_CFG = dict(score_thr=0.5, nms=dict(type="nms", iou_threshold=0.65))


def head(**kwargs):
    args = dict(num_classes=2, in_channels=4, feat_channels=4, strides=[8, 16],
                train_cfg=TRAIN_CFG, test_cfg=TEST_CFG, init_cfg=None)
    args.update(kwargs)
    return YOLOXHead(**args)


def test_layout_and_prior_bias():
    h = head()
    h.init_weights()
    sd = h.state_dict()
    assert tuple(sd["multi_level_conv_cls.1.weight"].shape) == (2, 4, 1, 1)
    assert tuple(sd["multi_level_conv_reg.0.weight"].shape) == (4, 4, 1, 1)
    assert tuple(sd["multi_level_conv_obj.0.weight"].shape) == (1, 4, 1, 1)
    assert "multi_level_cls_convs.0.1.bn.running_mean" in sd
    assert "multi_level_cls_convs.0.0.conv.bias" not in sd  # BN, so no conv bias
    prior = -math.log((1 - 0.01) / 0.01)
    assert torch.allclose(sd["multi_level_conv_obj.1.bias"], torch.tensor([prior]))
    assert "depthwise_conv" in "".join(head(use_depthwise=True).state_dict())


def test_decode_from_points_without_offset():
    priors = torch.tensor([[16.0, 8.0, 8.0, 8.0]])
    pred = torch.tensor([[[0.5, -0.25, math.log(2.0), 0.0]]])
    assert torch.allclose(yolox_decode(priors, pred), torch.tensor([[[12.0, 2.0, 28.0, 10.0]]]))


def test_get_bboxes_thresholds_the_product_and_rescales():
    h = head(strides=[8])
    h.eval()
    cls = torch.full((1, 2, 2, 2), -10.0)
    reg = torch.zeros((1, 4, 2, 2))
    obj = torch.full((1, 1, 2, 2), -10.0)
    cls[0, 1, 0, 1], obj[0, 0, 0, 1] = 10.0, 10.0  # location (x=8, y=0): class 1
    cls[0, 0, 1, 1], obj[0, 0, 1, 1] = 10.0, -1.0  # class high but objectness 0.27 < 0.5
    meta = dict(scale_factor=[2.0, 2.0, 2.0, 2.0], img_shape=(16, 16, 3))
    dets, labels = h.get_bboxes([cls], [reg], [obj], img_metas=[meta], rescale=True)[0]
    assert labels.tolist() == [1]
    assert torch.allclose(dets[0, :4], torch.tensor([2.0, -2.0, 6.0, 2.0]))
    assert math.isclose(float(dets[0, 4]), torch.sigmoid(torch.tensor(10.0)).item() ** 2,
                        rel_tol=1e-6)


def test_losses_and_l1_switch():
    torch.manual_seed(0)
    h = head()
    h.init_weights()
    feats = [torch.randn(2, 4, 8, 8), torch.randn(2, 4, 4, 4)]
    gts = [torch.tensor([[8.0, 8.0, 40.0, 40.0]]), torch.zeros((0, 4))]
    labels = [torch.tensor([1]), torch.zeros((0,), dtype=torch.long)]
    metas = [dict(img_shape=(64, 64, 3))] * 2
    losses = h.loss(*h(feats), gts, labels, metas)
    assert list(losses) == ["loss_cls", "loss_bbox", "loss_obj"]
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    h.use_l1 = True
    losses = h.loss(*h(feats), gts, labels, metas)
    assert "loss_l1" in losses and losses["loss_l1"] > 0
    sum(losses.values()).backward()
    assert sum(float(c.weight.grad.abs().sum()) for c in h.multi_level_conv_reg) > 0


def test_l1_target_is_the_inverse_of_decoding():
    priors = torch.tensor([[16.0, 8.0, 8.0, 8.0]])
    gt = torch.tensor([[12.0, 2.0, 28.0, 10.0]])
    target = YOLOXHead._get_l1_target(torch.zeros(1, 4), gt, priors, eps=0.0)
    assert torch.allclose(yolox_decode(priors, target[None]), gt[None])


def test_no_ground_truth_gives_only_objectness_loss():
    h = head()
    feats = [torch.randn(1, 4, 8, 8), torch.randn(1, 4, 4, 4)]
    losses = h.loss(*h(feats), [torch.zeros((0, 4))], [torch.zeros((0,), dtype=torch.long)],
                    [dict(img_shape=(64, 64, 3))])
    values = {k: float(v.detach()) for k, v in losses.items()}
    assert values["loss_cls"] == 0 and values["loss_bbox"] == 0 and values["loss_obj"] > 0
