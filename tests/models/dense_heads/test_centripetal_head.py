"""``CentripetalHead``: outputs, shift targets, losses (the guiding shift feeds the feature
adaption detached) and the centripetal pairing of planted corners."""

from math import log

import pytest
import torch

from detbox.models.dense_heads import CentripetalHead

TEST_CFG = dict(corner_topk=32, local_maximum_kernel=3, distance_threshold=0.5, score_thr=0.05,
                max_per_img=10, nms=dict(type="soft_nms", iou_threshold=0.5, method="gaussian"))


def make_head(**kwargs):
    return CentripetalHead(num_classes=3, in_channels=8, num_feat_levels=2,
                           corner_emb_channels=0, test_cfg=TEST_CFG, **kwargs)


def test_layers_and_outputs():
    head = make_head()
    head.init_weights()
    keys = list(head.state_dict())
    assert "tl_feat_adaption.1.weight" in keys and "tl_feat_adaption.1.bias" not in keys
    assert tuple(head.tl_dcn_offset[0].conv.weight.shape) == (18, 2, 1, 1)
    assert head.tl_dcn_offset[0].conv.bias is None
    assert not any("_emb" in k for k in keys)
    outs = head([torch.randn(1, 8, 6, 6), torch.randn(1, 8, 6, 6)])
    assert len(outs) == 8 and all(len(o) == 2 for o in outs)
    assert [o[1].shape[1] for o in outs] == [3, 3, 2, 2, 2, 2, 2, 2]


def test_targets_put_guiding_and_centripetal_shifts_at_the_corners():
    head = make_head()
    gt = [torch.tensor([[4.0, 8.0, 30.0, 22.0]])]  # / 4: left 1, top 2, right 7.5, bottom 5.5
    t = head.get_targets(gt, [torch.tensor([2])], (1, 8, 8, 8), (32, 32, 3),
                         with_guiding_shift=True, with_centripetal_shift=True)
    assert "corner_embedding" not in t
    # centre (4.25, 3.75) in feature pixels; top-left pixel (1, 2), bottom-right (7, 5)
    torch.testing.assert_close(t["topleft_guiding_shift"][0, :, 2, 1],
                               torch.tensor([3.25, 1.75]))
    torch.testing.assert_close(t["bottomright_guiding_shift"][0, :, 5, 7],
                               torch.tensor([2.75, 1.25]))
    torch.testing.assert_close(t["topleft_centripetal_shift"][0, :, 2, 1],
                               torch.tensor([log(3.25), log(1.75)]))
    torch.testing.assert_close(t["bottomright_centripetal_shift"][0, :, 5, 7],
                               torch.tensor([log(3.25), log(1.75)]))
    for key in ("topleft_guiding_shift", "bottomright_centripetal_shift"):
        assert t[key].ne(0).sum() == 2  # only at the corner pixel
    plain = head.get_targets(gt, [torch.tensor([2])], (1, 8, 8, 8), (32, 32, 3))
    assert sorted(plain) == ["bottomright_heatmap", "bottomright_offset", "topleft_heatmap",
                             "topleft_offset"]


def test_losses_and_the_detached_guiding_shift():
    head = make_head()
    outs = head([torch.randn(2, 8, 8, 8) for _ in range(2)])
    metas = [dict(pad_shape=(32, 32, 3))] * 2
    losses = head.loss(*outs, [torch.tensor([[4.0, 8.0, 30.0, 22.0]]), torch.zeros(0, 4)],
                       [torch.tensor([1]), torch.zeros(0, dtype=torch.long)], metas)
    assert set(losses) == {"det_loss", "off_loss", "guiding_loss", "centripetal_loss"}
    assert all(len(v) == 2 and torch.isfinite(torch.stack(v)).all() for v in losses.values())
    sum(losses["centripetal_loss"]).backward()
    # the deform offsets come from the guiding shift detached: no gradient reaches its branch
    assert head.tl_guiding_shift[0][1].conv.weight.grad is None
    assert head.tl_dcn_offset[0].conv.weight.grad.abs().sum() > 0
    assert head.br_feat_adaption[1].weight.grad.abs().sum() > 0


def _planted(tl_class, br_class, shift_x, shift_y):
    """A top-left corner at pixel (x 1, y 2) and a bottom-right one at (7, 6) of an 8x8 map,
    both with centripetal shifts ``exp(s) = (shift_x, shift_y)``."""
    heat = torch.full((1, 3, 8, 8), -10.0)
    tl_heat, br_heat = heat.clone(), heat.clone()
    tl_heat[0, tl_class, 2, 1] = 5.0
    br_heat[0, br_class, 6, 7] = 5.0
    off = torch.zeros(1, 2, 8, 8)
    shift = torch.zeros(1, 2, 8, 8)
    shift[0, 0], shift[0, 1] = log(shift_x), log(shift_y)
    return [tl_heat], [br_heat], [off], [off], [off], [off], [shift], [shift]


def test_decodes_a_pair_whose_shifts_meet_in_the_centre():
    head = make_head()
    meta = dict(pad_shape=(32, 32, 3), scale_factor=[1.0] * 4)
    (dets, labels), = head.get_bboxes(*_planted(1, 1, 3.0, 2.0), [meta])
    assert (dets[:, 4] > 0.9).sum() == 1
    torch.testing.assert_close(dets[0, :4], torch.tensor([4.0, 8.0, 28.0, 24.0]))
    assert labels[0] == 1 and dets[0, 4] > 0.99


@pytest.mark.parametrize("why, planted", [
    ("classes differ", (1, 2, 3.0, 2.0)),
    ("centres short of the central region", (1, 1, 0.5, 0.5)),
    ("centres overshoot", (1, 1, 5.5, 3.5)),
])
def test_rejects_pairs(why, planted):
    head = make_head()
    meta = dict(pad_shape=(32, 32, 3), scale_factor=[1.0] * 4)
    (dets, labels), = head.get_bboxes(*_planted(*planted), [meta])
    assert not (dets[:, 4] > 0.9).any(), why  # the planted pair (pairs of faint corners stay)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="guiding_shift_channels == 2"):
        make_head(guiding_shift_channels=3)
    with pytest.raises(ValueError, match="init_cfg is not allowed"):
        make_head(init_cfg=dict(type="Normal"))
