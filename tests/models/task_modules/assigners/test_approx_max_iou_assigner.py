"""ApproxMaxIoUAssigner: a square's IoU is the best of its approxs; MaxIoUAssigner's rules."""

import pytest
import torch

from detbox.models.task_modules.assigners import ApproxMaxIoUAssigner, MaxIoUAssigner
from detbox.models.task_modules.assigners.approx_max_iou_assigner import group_max_overlaps
from detbox.registry import TASK_UTILS


def _boxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 50
    wh = torch.rand(n, 2, generator=g) * 30 + 2
    return torch.cat([xy, xy + wh], dim=1)


def test_one_approx_per_square_is_max_iou_assignment():
    squares, gts = _boxes(40, 0), _boxes(5, 1)
    labels = torch.tensor([3, 1, 0, 2, 2])
    kwargs = dict(pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0.0)
    ours = ApproxMaxIoUAssigner(**kwargs).assign(squares, squares, 1, gts, gt_labels=labels)
    ref = MaxIoUAssigner(**kwargs).assign(squares, gts, gt_labels=labels)
    assert torch.equal(ours.gt_inds, ref.gt_inds)
    assert torch.equal(ours.labels, ref.labels)
    assert torch.allclose(ours.max_overlaps, ref.max_overlaps)


def test_square_takes_the_best_iou_of_its_approxs():
    num_squares, per_octave = 30, 9
    approxs, squares = _boxes(num_squares * per_octave, 2), _boxes(num_squares, 3)
    gts = _boxes(4, 4)
    assigner = TASK_UTILS.build(dict(type="ApproxMaxIoUAssigner", pos_iou_thr=0.5,
                                     neg_iou_thr=0.4, min_pos_iou=0.0, ignore_iof_thr=-1))
    result = assigner.assign(approxs, squares, per_octave, gts)
    # brute force: the best approx of each square, then the plain assigner on those IoUs
    ious = assigner.iou_calculator(gts, approxs).view(4, num_squares, per_octave).amax(dim=2)
    expected = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.4,
                              min_pos_iou=0.0).assign_wrt_overlaps(ious.clone())
    assert torch.equal(result.gt_inds, expected.gt_inds)
    assert torch.allclose(result.max_overlaps, ious.max(dim=0).values)
    assert (result.gt_inds > 0).any() and (result.gt_inds == 0).any()
    assert torch.equal(group_max_overlaps(assigner.iou_calculator(approxs, gts), per_octave), ious)


def test_ignore_regions_are_measured_on_the_squares():
    squares = torch.tensor([[0.0, 0.0, 10.0, 10.0], [40.0, 40.0, 50.0, 50.0]])
    approxs = squares.repeat_interleave(2, dim=0)
    gts = torch.tensor([[40.0, 40.0, 50.0, 50.0]])
    ignore = torch.tensor([[0.0, 0.0, 20.0, 20.0]])
    assigner = ApproxMaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.4, ignore_iof_thr=0.5)
    assert assigner.assign(approxs, squares, 2, gts, ignore).gt_inds.tolist() == [-1, 1]
    assert assigner.assign(approxs, squares, 2, gts).gt_inds.tolist() == [0, 1]


def test_empty_inputs_and_bad_group_size():
    assigner = ApproxMaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.4)
    squares = _boxes(3, 5)
    assert assigner.assign(squares, squares, 1, torch.zeros(0, 4)).gt_inds.tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="4 approxs for 3 squares x 2"):
        assigner.assign(_boxes(4, 6), squares, 2, _boxes(1, 7))
