"""CenterRegionAssigner: core positives, shadowed priors, priorities, ignore regions."""

import torch

from detbox.models.task_modules.assigners import CenterRegionAssigner
from detbox.models.task_modules.assigners.center_region_assigner import scale_boxes


def grid(step=8, size=64):
    xy = torch.arange(0, size, step).float()
    yy, xx = torch.meshgrid(xy, xy, indexing="ij")
    tl = torch.stack([xx.flatten(), yy.flatten()], 1)
    return torch.cat([tl, tl + step], 1)  # 8x8 priors of 8 px


def test_scale_boxes():
    assert scale_boxes(torch.tensor([[0.0, 0.0, 10.0, 20.0]]), 0.5).tolist() == [
        [2.5, 5.0, 7.5, 15.0]]


def test_core_positive_and_shadowed():
    priors = grid()
    gt = torch.tensor([[0.0, 0.0, 64.0, 64.0]])
    result = CenterRegionAssigner(pos_scale=0.2, neg_scale=0.5).assign(
        priors, gt, gt_labels=torch.tensor([1]))
    # the core is 25.6..38.4: the four priors around the center (24..40) are positive
    pos = (result.gt_inds == 1).nonzero().view(-1).tolist()
    assert pos == [27, 28, 35, 36]
    assert result.labels[pos].tolist() == [1] * 4
    shadowed = result.get_extra_property("shadowed_labels")
    # the shadow 16..48 minus the core: 16 - 4 priors with IoF above 0.01, class 1
    assert shadowed.shape == (12, 2) and (shadowed[:, 1] == 1).all()
    assert not set(shadowed[:, 0].tolist()) & set(pos)


def test_smaller_ground_truth_wins_and_the_loser_is_shadowed():
    priors = grid()
    big = [0.0, 0.0, 64.0, 64.0]
    small = [24.0, 24.0, 40.0, 40.0]
    result = CenterRegionAssigner(pos_scale=0.2, neg_scale=0.2).assign(
        priors, torch.tensor([big, small]), gt_labels=torch.tensor([0, 2]))
    assert (result.gt_inds[[27, 28, 35, 36]] == 2).all()  # the smaller box (1-based 2)
    shadowed = result.get_extra_property("shadowed_labels")
    lost = shadowed[shadowed[:, 1] == 0][:, 0].tolist()  # class of the big box
    assert {27, 28, 35, 36} <= set(lost)


def test_ignore_region_and_empty_inputs():
    priors = grid()
    assigner = CenterRegionAssigner(pos_scale=0.2, neg_scale=0.2)
    result = assigner.assign(priors, torch.tensor([[0.0, 0.0, 64.0, 64.0]]),
                             gt_bboxes_ignore=torch.tensor([[0.0, 0.0, 32.0, 32.0]]))
    # the ignore box shrunk by 0.5 (8..24) holds the centers 12 and 20 in x and y
    assert (result.gt_inds[[9, 10, 17, 18]] == -1).all()
    assert result.labels is None and result.get_extra_property("shadowed_labels") is None
    empty = assigner.assign(priors, torch.zeros(0, 4), gt_labels=torch.zeros(0).long())
    assert (empty.gt_inds == 0).all() and empty.num_gts == 0
