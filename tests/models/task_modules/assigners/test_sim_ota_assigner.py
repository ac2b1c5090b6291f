"""SimOTAAssigner: candidate region, dynamic k, conflicts resolved by cost, empty cases."""

import torch

from detbox.models.task_modules.assigners import SimOTAAssigner
from detbox.models.task_modules.assigners.sim_ota_assigner import priors_in_gts_and_centers


def grid(n, stride):
    ys, xs = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    pts = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1).float() * stride + stride / 2
    return torch.cat([pts, torch.full_like(pts, stride)], 1)


def test_candidates_inside_box_or_center_square():
    priors = torch.tensor([[5.0, 5, 1, 1], [50, 50, 1, 1], [21, 10, 1, 1]])
    gt = torch.tensor([[0.0, 0, 10, 10]])
    candidate, in_both = priors_in_gts_and_centers(priors, gt, 2.5)
    assert candidate.tolist() == [True, False, False]
    wide = priors_in_gts_and_centers(torch.tensor([[12.0, 5, 4, 4]]), gt, 2.5)
    assert wide[0].tolist() == [True] and wide[1].tolist() == [[False]]  # center, not box
    assert in_both.shape == (1, 1) and bool(in_both[0, 0])


def test_dynamic_k_follows_the_sum_of_best_ious():
    priors = grid(8, 4)  # 64 points over 32 x 32
    gt = torch.tensor([[4.0, 4, 20, 20]])
    # every prediction is the ground truth itself: IoU 1 -> k = min(10, candidates)
    preds = gt.repeat(64, 1)
    scores = torch.full((64, 2), 0.5)
    res = SimOTAAssigner(center_radius=1.0).assign(scores, priors, preds, gt, torch.tensor([1]))
    pos = res.gt_inds > 0
    candidate, in_both = priors_in_gts_and_centers(priors, gt, 1.0)
    assert int(pos.sum()) == min(10, int(candidate.sum()))
    assert torch.all(res.labels[pos] == 1) and torch.all(res.labels[~pos] == -1)
    assert torch.allclose(res.max_overlaps[pos], torch.ones(int(pos.sum())))
    # the priors inside both the box and its center square (no INF cost) come first
    both = torch.zeros(64, dtype=torch.bool)
    both[candidate] = in_both[:, 0]
    assert 0 < int(both.sum()) < int(pos.sum()) and bool(pos[both].all())


def test_a_prior_wanted_by_two_gts_keeps_the_cheaper():
    priors = torch.tensor([[10.0, 10, 8, 8]])
    gts = torch.tensor([[0.0, 0, 20, 20], [2, 2, 22, 22]])
    preds = torch.tensor([[2.0, 2, 22, 22]])  # IoU 1 with the second
    res = SimOTAAssigner().assign(torch.full((1, 2), 0.5), priors, preds, gts,
                                  torch.tensor([0, 1]))
    assert res.gt_inds.tolist() == [2] and res.labels.tolist() == [1]


def test_no_gt_or_no_candidate_gives_background():
    priors = grid(2, 8)
    preds = torch.tensor([[0.0, 0, 8, 8]]).repeat(4, 1)
    none = SimOTAAssigner().assign(torch.rand(4, 2), priors, preds, torch.zeros((0, 4)),
                                   torch.zeros((0,), dtype=torch.long))
    assert none.gt_inds.tolist() == [0] * 4 and none.labels.tolist() == [-1] * 4
    far = SimOTAAssigner().assign(torch.rand(4, 2), priors, preds,
                                  torch.tensor([[500.0, 500, 510, 510]]), torch.tensor([0]))
    assert far.gt_inds.tolist() == [0] * 4 and far.num_gts == 1
