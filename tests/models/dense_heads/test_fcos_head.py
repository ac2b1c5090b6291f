"""FCOSHead: targets on hand-built points and boxes, centerness, forward modes, losses, and
loading pre-v2.0 checkpoints (``fcos_cls``...)."""

import math

import numpy as np
import pytest
import torch

from detbox.models.dense_heads import FCOSHead

INF = 1e8
BOX_A = [0.0, 0.0, 10.0, 10.0]  # area 100
BOX_B = [2.0, 2.0, 30.0, 30.0]  # area 784, center (16, 16)


def head(**kwargs):
    args = dict(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1, strides=[8, 16],
                regress_ranges=((-1, 16), (16, INF)), norm_cfg=None)
    args.update(kwargs)
    return FCOSHead(**args)


def targets(fcos, gts, labels):
    points = fcos.prior_generator.grid_priors([(2, 2), (1, 1)])
    return fcos.get_targets(points, [torch.tensor(gts)], [torch.tensor(labels)])


def test_targets_follow_regress_ranges():
    # level 0 points (4,4) (12,4) (4,12) (12,12); level 1 point (8,8)
    labels, boxes = targets(head(), [BOX_A, BOX_B], [1, 2])
    # (4,4): A fits (max distance 6 in [-1, 16]); B's max distance 26 is out of range.
    # The other level-0 points are outside A and too far for B; (8,8): B (max 22 >= 16).
    assert labels[0].tolist() == [1, 3, 3, 3] and labels[1].tolist() == [2]
    assert boxes[0][0].tolist() == [4, 4, 6, 6]
    assert boxes[1][0].tolist() == [6, 6, 22, 22]


def test_smallest_box_wins_and_norm_on_bbox_divides_by_stride():
    fcos = head(regress_ranges=((-1, INF), (-1, INF)), norm_on_bbox=True)
    labels, boxes = targets(fcos, [BOX_B, BOX_A], [2, 1])
    assert labels[0].tolist() == [1, 2, 2, 2]  # (4,4) is inside both: A is smaller
    assert boxes[0][0].tolist() == [0.5, 0.5, 0.75, 0.75]  # (4, 4, 6, 6) / 8
    assert boxes[1][0].tolist() == [0.5, 0.5, 0.125, 0.125]  # (8,8) is in both: A, / 16


def test_center_sampling_keeps_points_near_the_center():
    fcos = head(regress_ranges=((-1, INF), (-1, INF)))
    plain, _ = targets(fcos, [BOX_B], [0])
    fcos.center_sampling = True  # radius 1.5 * 8 = 12 around (16, 16): region [4, 28]
    sampled, _ = targets(fcos, [BOX_B], [0])
    assert plain[0].tolist() == [0, 0, 0, 0]
    # a point needs x and y strictly inside (4, 28): only (12, 12)
    assert sampled[0].tolist() == [3, 3, 3, 0]


def test_no_ground_truth_gives_background():
    labels, boxes = targets(head(), torch.zeros(0, 4).tolist(), [])
    assert labels[0].tolist() == [3] * 4 and boxes[0].abs().sum() == 0


def test_centerness_target():
    ctr = head().centerness_target(torch.tensor([[4.0, 4.0, 6.0, 6.0], [2.0, 8.0, 2.0, 2.0]]))
    assert ctr.tolist() == pytest.approx([4 / 6, math.sqrt(0.25)])


def test_forward_distances_exp_or_relu_times_stride():
    torch.manual_seed(0)
    x = [torch.randn(1, 8, 4, 4), torch.randn(1, 8, 2, 2)]
    plain = head().eval()
    _, bbox_preds, _ = plain(x)
    assert all((b > 0).all() for b in bbox_preds)
    normed = head(norm_on_bbox=True, centerness_on_reg=True)
    normed.load_state_dict(plain.state_dict())
    train_out = normed.train()(x)[1]
    test_out = normed.eval()(x)[1]
    for level, stride in enumerate((8, 16)):
        assert (train_out[level] >= 0).all()
        torch.testing.assert_close(test_out[level], train_out[level] * stride)
        torch.testing.assert_close(torch.log(bbox_preds[level]),
                                   plain.conv_reg(plain.reg_convs[0](x[level])))


def test_loss_and_empty_ground_truth():
    fcos = head(regress_ranges=((-1, 64), (64, INF)))
    fcos.init_weights()
    torch.manual_seed(0)
    outs = fcos([torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)])
    metas = [dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))] * 2
    losses = fcos.loss(*outs, [torch.tensor([BOX_B]), torch.zeros(0, 4)],
                       [torch.tensor([1]), torch.zeros(0, dtype=torch.long)], metas)
    assert set(losses) == {"loss_cls", "loss_bbox", "loss_centerness"}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    none = fcos.loss(*outs, [torch.zeros(0, 4)] * 2, [torch.zeros(0, dtype=torch.long)] * 2,
                     metas)
    assert none["loss_bbox"].item() == 0 and none["loss_centerness"].item() == 0


def test_old_checkpoint_names_are_renamed_on_load():
    src = head()
    old = {k.replace("conv_cls", "fcos_cls").replace("conv_reg", "fcos_reg")
           .replace("conv_centerness", "fcos_centerness"): v
           for k, v in src.state_dict().items()}
    assert "fcos_cls.weight" in old and "conv_cls.weight" not in old
    dst = head()
    dst.load_state_dict(old, strict=True)
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value)
    # inside a detector (prefix 'bbox_head.'), too
    wrapper = torch.nn.Module()
    wrapper.bbox_head = head()
    wrapper.load_state_dict({f"bbox_head.{k}": v for k, v in old.items()}, strict=True)
    assert torch.equal(wrapper.bbox_head.conv_cls.weight, src.conv_cls.weight)


def test_versioned_state_dicts_are_not_renamed():
    sd = head().state_dict()
    assert sd._metadata[""]["version"] == 1
    sd["fcos_cls.weight"] = sd.pop("conv_cls.weight")
    with pytest.raises(RuntimeError, match="fcos_cls"):
        head().load_state_dict(sd, strict=True)


def test_points_feed_the_generic_post_processing():
    fcos = head(strides=[8], regress_ranges=((-1, INF),))
    fcos.test_cfg = dict(nms_pre=2, score_thr=0.05, nms=dict(type="nms", iou_threshold=0.5),
                         max_per_img=10)

    def logit(p):
        return math.log(p / (1 - p))

    cls = torch.full((1, 3, 2, 2), logit(0.01))
    cls[0, 0, 0, 0] = logit(0.9)   # point (4, 4)
    cls[0, 1, 0, 1] = logit(0.6)   # point (12, 4): third best, cut by nms_pre=2
    cls[0, 0, 1, 1] = logit(0.7)   # point (12, 12)
    dist = torch.full((1, 4, 2, 2), 4.0)
    ctr = torch.zeros(1, 1, 2, 2)  # sigmoid 0.5
    meta = dict(img_shape=(14, 16, 3), scale_factor=np.array([2, 2, 2, 2], dtype=np.float32))
    (dets, labels), = fcos.get_bboxes([cls], [dist], [ctr], img_metas=[meta])
    torch.testing.assert_close(dets, torch.tensor([[0.0, 0, 8, 8, 0.45], [8, 8, 16, 14, 0.35]]))
    assert labels.tolist() == [0, 0]
    (scaled, _), = fcos.get_bboxes([cls], [dist], [ctr], img_metas=[meta], rescale=True)
    torch.testing.assert_close(scaled[:, :4], dets[:, :4] / 2)


def test_deformable_last_conv_starts_with_zero_offsets():
    fcos = head(stacked_convs=2, dcn_on_last_conv=True, norm_cfg=dict(type="GN", num_groups=4))
    last = fcos.cls_convs[1].conv
    assert type(last).__name__ == "ModulatedDeformConv2dPack"
    assert "cls_convs.1.conv.conv_offset.weight" in fcos.state_dict()
    fcos.init_weights()  # Normal(std 0.01) on every Conv2d, then the offsets back to zero
    assert last.conv_offset.weight.abs().sum() == 0 and last.conv_offset.bias.abs().sum() == 0
    assert 0.005 < last.weight.std().item() < 0.1  # the deformable conv's own init
    outs = fcos([torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)])
    sum(o.sum() for level in outs for o in level).backward()
    assert last.conv_offset.weight.grad.abs().sum() > 0
