"""``CornerHead``: outputs, targets, losses and decoding of a planted corner pair."""

import pytest
import torch

from detbox.models.dense_heads import CornerHead

TEST_CFG = dict(corner_topk=32, local_maximum_kernel=3, distance_threshold=0.5, score_thr=0.05,
                max_per_img=10, nms=dict(type="soft_nms", iou_threshold=0.5, method="gaussian"))


def make_head(**kwargs):
    return CornerHead(num_classes=3, in_channels=8, num_feat_levels=2, test_cfg=TEST_CFG,
                      **kwargs)


def test_targets_put_gaussians_offsets_and_pairs_at_the_corners():
    head = make_head()
    gt = [torch.tensor([[4.0, 8.0, 30.0, 22.0]])]
    t = head.get_targets(gt, [torch.tensor([2])], (1, 8, 8, 8), (32, 32, 3),
                         with_corner_emb=True)
    assert t["topleft_heatmap"][0, 2, 2, 1] == 1 and t["topleft_heatmap"][0, :2].eq(0).all()
    assert t["bottomright_heatmap"][0, 2, 5, 7] == 1
    torch.testing.assert_close(t["bottomright_offset"][0, :, 5, 7], torch.tensor([0.5, 0.5]))
    assert t["corner_embedding"] == [[[[2, 1], [5, 7]]]]


def test_losses_per_level_and_backward():
    head = make_head()
    feats = [torch.randn(2, 8, 8, 8) for _ in range(2)]
    outs = head(feats)
    metas = [dict(pad_shape=(32, 32, 3))] * 2
    losses = head.loss(*outs, [torch.tensor([[4.0, 8.0, 30.0, 22.0]]), torch.zeros(0, 4)],
                       [torch.tensor([1]), torch.zeros(0, dtype=torch.long)], metas)
    assert set(losses) == {"det_loss", "off_loss", "pull_loss", "push_loss"}
    assert all(len(v) == 2 for v in losses.values())
    sum(sum(v) for v in losses.values()).backward()


def test_decodes_a_planted_pair():
    head = make_head()
    heat = torch.full((1, 3, 8, 8), -10.0)
    tl_heat, br_heat = heat.clone(), heat.clone()
    tl_heat[0, 1, 2, 1], br_heat[0, 1, 5, 7] = 5.0, 5.0
    emb = torch.zeros(1, 1, 8, 8)
    off = torch.zeros(1, 2, 8, 8)
    off[0, :, 2, 1] = 0.25
    meta = dict(pad_shape=(32, 32, 3), border=(0, 32, 4, 36), scale_factor=[1.0] * 4)
    (dets, labels), = head.get_bboxes([tl_heat], [br_heat], [emb], [emb], [off], [off], [meta])
    torch.testing.assert_close(dets[0, :4], torch.tensor([1.0, 9.0, 24.0, 20.0]))
    assert labels[0] == 1 and dets[0, 4] > 0.99


def test_too_small_corner_topk_is_named():
    head = CornerHead(num_classes=3, in_channels=8, num_feat_levels=1,
                      test_cfg={**TEST_CFG, "corner_topk": 10})
    x = torch.zeros(1, 3, 8, 8)
    meta = dict(pad_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="corner_topk=10"):
        head.get_bboxes([x], [x], [x[:, :1]], [x[:, :1]], [x[:, :2]], [x[:, :2]], [meta])
