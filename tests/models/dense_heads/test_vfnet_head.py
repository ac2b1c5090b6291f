"""VFNetHead: the star of sampling points, layout, train/test outputs, both target rules."""

from collections import OrderedDict

import pytest
import torch

from detbox.models.dense_heads import VFNetHead
from detbox.models.dense_heads.vfnet_head import star_dcn_offset

TRAIN_CFG = dict(assigner=dict(type="ATSSAssigner", topk=9), allowed_border=-1, pos_weight=-1,
                 debug=False)


def head(**kwargs):
    args = dict(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1,
                strides=[8, 16], regress_ranges=((-1, 32), (32, 1e8)),
                norm_cfg=dict(type="GN", num_groups=4), train_cfg=TRAIN_CFG,
                anchor_generator=dict(type="AnchorGenerator", ratios=[1.0],
                                      octave_base_scale=8, scales_per_octave=1,
                                      center_offset=0.0, strides=[8, 16]))
    args.update(kwargs)
    vfnet = VFNetHead(**args)
    vfnet.init_weights()
    return vfnet


def test_star_offsets_put_the_nine_samples_on_the_box():
    bbox = torch.tensor([8.0, 16.0, 24.0, 32.0]).view(1, 4, 1, 1)  # l, t, r, b in pixels
    offset = star_dcn_offset(bbox, 0.1, stride=8)
    grid = torch.tensor([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)], dtype=torch.float)
    samples = grid + offset.view(9, 2)  # (dy, dx) in strides
    ys, xs = (-2.0, 0.0, 4.0), (-1.0, 0.0, 3.0)  # -t, center, +b ; -l, center, +r
    torch.testing.assert_close(samples, torch.tensor([[y, x] for y in ys for x in xs]))


def test_gradient_mul_scales_the_gradient_reaching_the_boxes():
    bbox = torch.full((1, 4, 2, 2), 10.0, requires_grad=True)
    star_dcn_offset(bbox, 0.1, stride=4).sum().backward()
    # each side appears three times with sign +-1, divided by the stride, times 0.1
    assert bbox.grad[0, :, 0, 0].tolist() == pytest.approx([-0.075, -0.075, 0.075, 0.075])


def test_layout_and_outputs_in_train_and_test_mode():
    vfnet = head()
    sd = vfnet.state_dict()
    assert tuple(sd["vfnet_reg_refine_dconv.weight"].shape) == (8, 8, 3, 3)
    assert "vfnet_reg_refine_dconv.bias" not in sd and "vfnet_cls_dconv.weight" in sd
    assert {"scales.1.scale", "scales_refine.1.scale", "vfnet_reg_conv.gn.weight"} <= set(sd)
    feats = [torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)]
    vfnet.train()
    assert len(vfnet(feats)) == 3
    vfnet.eval()
    cls, refined = vfnet(feats)
    assert [tuple(c.shape) for c in cls] == [(1, 3, 8, 8), (1, 3, 4, 4)]
    assert all((r > 0).all() for r in refined)


@pytest.mark.parametrize("use_atss", [True, False])
def test_losses_with_atss_or_fcos_targets(use_atss):
    vfnet = head(use_atss=use_atss)
    vfnet.train()
    torch.manual_seed(0)
    outs = vfnet([torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)])
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    losses = vfnet.loss(*outs, [torch.tensor([[10.0, 12.0, 60.0, 50.0]])], [torch.tensor([2])],
                        [meta])
    assert set(losses) == {"loss_cls", "loss_bbox", "loss_bbox_rf"}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    sum(losses.values()).backward()
    assert vfnet.vfnet_cls_dconv.weight.grad.abs().sum() > 0
    assert vfnet.vfnet_reg.weight.grad.abs().sum() > 0  # through the star offsets too


def test_no_ground_truth_gives_zero_box_losses():
    vfnet = head()
    vfnet.train()
    outs = vfnet([torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)])
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    losses = vfnet.loss(*outs, [torch.zeros(0, 4)], [torch.zeros(0, dtype=torch.long)], [meta])
    assert losses["loss_bbox"] == 0 and losses["loss_bbox_rf"] == 0 and losses["loss_cls"] > 0


def test_unversioned_state_dict_keys_are_not_renamed():
    vfnet = head()
    sd = OrderedDict((k, v.clone()) for k, v in vfnet.state_dict().items())
    sd._metadata = {}  # as in a checkpoint without module versions
    vfnet.load_state_dict(sd, strict=True)
