"""PseudoSampler: every positive and negative, no ground truths added."""

import torch

import detbox.models  # noqa: F401  (registers the task modules)
from detbox.models.task_modules import AssignResult, PseudoSampler
from detbox.registry import TASK_UTILS


def test_returns_all_positives_and_negatives():
    assign = AssignResult(2, torch.tensor([0, 2, -1, 1, 0]), torch.zeros(5),
                          labels=torch.tensor([-1, 8, -1, 7, -1]))
    bboxes = torch.arange(20, dtype=torch.float32).view(5, 4)
    gts = torch.tensor([[0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0]])
    result = PseudoSampler().sample(assign, bboxes, gts)
    assert result.pos_inds.tolist() == [1, 3]
    assert result.neg_inds.tolist() == [0, 4]
    assert result.pos_is_gt.tolist() == [0, 0]
    torch.testing.assert_close(result.pos_gt_bboxes, gts[[1, 0]])
    assert result.pos_gt_labels.tolist() == [8, 7]
    assert assign.num_preds == 5  # untouched


def test_no_ground_truth():
    assign = AssignResult(0, torch.zeros(3, dtype=torch.long), torch.zeros(3))
    result = PseudoSampler().sample(assign, torch.zeros(3, 4), torch.zeros(0, 4))
    assert result.pos_inds.numel() == 0 and result.neg_inds.tolist() == [0, 1, 2]
    assert result.pos_gt_bboxes.shape == (0, 4) and result.pos_gt_labels is None


def test_built_with_context():
    sampler = TASK_UTILS.build(dict(type="PseudoSampler"), default_args=dict(context="head"))
    assert isinstance(sampler, PseudoSampler) and sampler.context == "head"
