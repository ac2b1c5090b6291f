"""RandomSampler: sample counts (num, pos_fraction, neg_pos_ub, add_gt_as_proposals), torch RNG."""

import pytest
import torch

import detbox.models  # noqa: F401  (registers the task modules)
from detbox.models.task_modules import AssignResult, RandomSampler
from detbox.registry import TASK_UTILS


def assignment(num_pos, num_neg, num_ignore=0, num_gts=2):
    gt_inds = torch.cat([torch.arange(num_pos) % num_gts + 1,
                         torch.zeros(num_neg, dtype=torch.long), torch.full((num_ignore,), -1)])
    labels = torch.where(gt_inds > 0, gt_inds + 10, torch.full_like(gt_inds, -1))
    overlaps = torch.where(gt_inds > 0, 0.8, 0.1)
    return AssignResult(num_gts, gt_inds, overlaps, labels=labels)


def boxes(n):
    x = torch.arange(n, dtype=torch.float32)[:, None]
    return torch.cat([x, x, x + 5, x + 5], 1)


GTS = torch.tensor([[100.0, 100.0, 110.0, 110.0], [200.0, 200.0, 220.0, 220.0]])
GT_LABELS = torch.tensor([11, 12])


def test_counts_with_enough_of_both():
    sampler = RandomSampler(num=20, pos_fraction=0.25, add_gt_as_proposals=False)
    result = sampler.sample(assignment(10, 50, 5), boxes(65), GTS, GT_LABELS)
    assert result.pos_inds.numel() == 5  # int(20 * 0.25)
    assert result.neg_inds.numel() == 15
    assert torch.all(result.pos_inds < 10)
    assert torch.all((result.neg_inds >= 10) & (result.neg_inds < 60))  # never the ignored
    assert torch.equal(result.pos_inds, result.pos_inds.sort().values)  # unique() sorts


def test_negatives_fill_missing_positives_and_neg_pos_ub():
    sampler = RandomSampler(num=20, pos_fraction=0.5, add_gt_as_proposals=False)
    result = sampler.sample(assignment(3, 50), boxes(53), GTS, GT_LABELS)
    assert (result.pos_inds.numel(), result.neg_inds.numel()) == (3, 17)
    capped = RandomSampler(num=20, pos_fraction=0.5, neg_pos_ub=2, add_gt_as_proposals=False)
    result = capped.sample(assignment(3, 50), boxes(53), GTS, GT_LABELS)
    assert (result.pos_inds.numel(), result.neg_inds.numel()) == (3, 6)
    result = capped.sample(assignment(0, 50), boxes(50), GTS, GT_LABELS)
    assert (result.pos_inds.numel(), result.neg_inds.numel()) == (0, 2)  # 2 * max(1, 0)
    few = RandomSampler(num=20, pos_fraction=0.5, add_gt_as_proposals=False)
    assert few.sample(assignment(1, 4), boxes(5), GTS, GT_LABELS).neg_inds.numel() == 4


def test_add_gt_as_proposals():
    sampler = RandomSampler(num=8, pos_fraction=0.5)
    assign = assignment(1, 10)
    result = sampler.sample(assign, boxes(11), GTS, GT_LABELS)
    assert assign.num_preds == 13  # the two gts were prepended
    assert result.pos_inds.tolist() == [0, 1, 2]
    assert result.pos_is_gt.tolist() == [1, 1, 0]
    torch.testing.assert_close(result.pos_bboxes[:2], GTS)
    assert result.pos_assigned_gt_inds.tolist() == [0, 1, 0]
    torch.testing.assert_close(result.pos_gt_bboxes, GTS[[0, 1, 0]])
    assert result.pos_gt_labels.tolist() == [11, 12, 11]
    assert result.neg_inds.numel() == 5 and torch.all(result.neg_inds >= 3)
    assert result.bboxes.shape == (8, 4)
    with pytest.raises(ValueError, match="gt_labels"):
        sampler.sample(assignment(1, 10), boxes(11), GTS)


def test_uses_torch_randperm():
    sampler = RandomSampler(num=4, pos_fraction=0.5, add_gt_as_proposals=False)
    torch.manual_seed(123)
    result = sampler.sample(assignment(10, 10), boxes(20), GTS, GT_LABELS)
    torch.manual_seed(123)
    expected_pos = torch.arange(10)[torch.randperm(10)[:2]].sort().values
    expected_neg = (torch.arange(10, 20)[torch.randperm(10)[:2]]).sort().values
    assert result.pos_inds.tolist() == expected_pos.tolist()
    assert result.neg_inds.tolist() == expected_neg.tolist()


def test_registry_build_takes_context():
    sampler = TASK_UTILS.build(dict(type="RandomSampler", num=512, pos_fraction=0.25,
                                    neg_pos_ub=-1, add_gt_as_proposals=True),
                               default_args=dict(context="head"))
    assert sampler.context == "head" and sampler.num == 512
    with pytest.raises(TypeError, match="pos_fration"):
        TASK_UTILS.build(dict(type="RandomSampler", num=512, pos_fration=0.25))
