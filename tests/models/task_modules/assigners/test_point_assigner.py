"""PointAssigner: pyramid level from the box size, nearest points, closer box wins."""

import torch

from detbox.models.task_modules.assigners import PointAssigner


def points(strides=(8, 16), size=64):
    out = []
    for s in strides:
        xy = torch.arange(0, size, s).float()
        yy, xx = torch.meshgrid(xy, xy, indexing="ij")
        out.append(torch.stack([xx.flatten(), yy.flatten(), torch.full_like(xx.flatten(), s)],
                               1))
    return torch.cat(out)  # 64 points of stride 8, then 16 of stride 16


def test_level_and_nearest_points():
    pts = points()
    # 32x32 box: log2(32 / 4) = 3 -> stride 8; 64x64: 4 -> stride 16
    gts = torch.tensor([[8.0, 8.0, 40.0, 40.0], [0.0, 0.0, 64.0, 64.0]])
    result = PointAssigner(scale=4, pos_num=1).assign(pts, gts, gt_labels=torch.tensor([0, 1]))
    pos = (result.gt_inds > 0).nonzero().view(-1).tolist()
    assert pos == [27, 64 + 10]  # (24, 24) at stride 8, (32, 32) at stride 16
    assert result.gt_inds[pos].tolist() == [1, 2] and result.labels[pos].tolist() == [0, 1]


def test_closer_ground_truth_keeps_the_point():
    pts = points(strides=(8,))
    near = [16.0, 16.0, 32.0, 32.0]  # center (24, 24) = point 27: distance 0
    far = [10.0, 10.0, 40.0, 40.0]  # center (25, 25): distance sqrt(2) / 30 to point 27
    for order in ([near, far], [far, near]):
        result = PointAssigner(scale=4, pos_num=1).assign(pts, torch.tensor(order))
        assert result.gt_inds[27].item() == order.index(near) + 1 and result.labels is None


def test_clamped_to_available_levels_and_empty():
    pts = points()
    tiny = torch.tensor([[30.0, 30.0, 31.0, 31.0]])  # level -2 -> clamped to stride 8
    result = PointAssigner().assign(pts, tiny)
    assert (result.gt_inds[:64] > 0).sum() == 3 and (result.gt_inds[64:] == 0).all()
    assert (PointAssigner().assign(pts, torch.zeros(0, 4)).gt_inds == 0).all()
