"""MaxIoUAssigner on small known cases, step by step as MMDetection v2 orders them."""

import pytest
import torch

import detbox.models  # noqa: F401  (registers the task modules)
from detbox.models.task_modules import MaxIoUAssigner
from detbox.registry import TASK_UTILS


def test_mmdet_docstring_case():
    assigner = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.5)
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [10.0, 10.0, 20.0, 20.0]])
    result = assigner.assign(boxes, torch.tensor([[0.0, 0.0, 10.0, 9.0]]),
                             gt_labels=torch.tensor([4]))
    assert result.gt_inds.tolist() == [1, 0]
    assert result.labels.tolist() == [4, -1]
    torch.testing.assert_close(result.max_overlaps, torch.tensor([0.9, 0.0]))
    assert result.num_gts == 1


OVERLAPS = torch.tensor([[0.8, 0.4, 0.1, 0.0, 0.35],
                         [0.6, 0.2, 0.3, 0.0, 0.35]])


def test_steps_and_low_quality_override():
    # best IoU per box: 0.8 (gt0), 0.4, 0.3 (gt1), 0.0, 0.35 (gt0: first of a tie)
    # negatives: < 0.3 -> box 3 only; box 2 (exactly 0.3) stays ignored
    # positive: box 0 -> gt0; low quality: gt1's best box is box 0 too, and overrides it
    assigner = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.3)
    result = assigner.assign_wrt_overlaps(OVERLAPS.clone(), torch.tensor([3, 7]))
    assert result.gt_inds.tolist() == [2, -1, -1, 0, -1]
    assert result.labels.tolist() == [7, -1, -1, -1, -1]
    torch.testing.assert_close(result.max_overlaps, torch.tensor([0.8, 0.4, 0.3, 0.0, 0.35]))

    no_lq = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.3, match_low_quality=False)
    assert no_lq.assign_wrt_overlaps(OVERLAPS.clone()).gt_inds.tolist() == [1, -1, -1, 0, -1]


def test_low_quality_min_pos_iou_and_assign_all():
    overlaps = torch.tensor([[0.9, 0.0, 0.0, 0.0],
                             [0.0, 0.3, 0.1, 0.3]])  # gt1's best IoU 0.3, tied on boxes 1, 3
    assigner = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.2)
    assert assigner.assign_wrt_overlaps(overlaps).gt_inds.tolist() == [1, 2, 0, 2]
    first_only = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.2, gt_max_assign_all=False)
    assert first_only.assign_wrt_overlaps(overlaps).gt_inds.tolist() == [1, 2, 0, -1]
    strict = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.2, min_pos_iou=0.35)
    assert strict.assign_wrt_overlaps(overlaps).gt_inds.tolist() == [1, -1, 0, -1]


def test_later_ground_truth_wins_low_quality_ties():
    overlaps = torch.tensor([[0.4, 0.1], [0.4, 0.2]])  # both gts' best box is box 0
    assigner = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.3)
    assert assigner.assign_wrt_overlaps(overlaps).gt_inds.tolist() == [2, 0]


def test_negative_range():
    overlaps = torch.tensor([[0.0, 0.15, 0.25, 0.35, 0.9]])
    ranged = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=(0.1, 0.3), match_low_quality=False)
    assert ranged.assign_wrt_overlaps(overlaps).gt_inds.tolist() == [-1, 0, 0, -1, 1]
    listed = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=[0.1, 0.3], match_low_quality=False)
    assert listed.assign_wrt_overlaps(overlaps).gt_inds.tolist() == [-1, 0, 0, -1, 1]
    single = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.3, match_low_quality=False)
    assert single.assign_wrt_overlaps(overlaps).gt_inds.tolist() == [0, 0, 0, -1, 1]
    with pytest.raises(AssertionError, match="pair"):
        MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=(0.1, 0.2, 0.3))


def test_ignore_regions():
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    ignore = torch.tensor([[50.0, 50.0, 70.0, 70.0]])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [55.0, 55.0, 65.0, 65.0],
                          [100.0, 100.0, 110.0, 110.0]])
    # box 1 lies inside the ignore region: IoF over the box is 1, over the region 0.25
    wrt_box = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.4, ignore_iof_thr=0.5)
    result = wrt_box.assign(boxes, gt, gt_bboxes_ignore=ignore)
    assert result.gt_inds.tolist() == [1, -1, 0]
    assert result.max_overlaps[1].item() == -1.0
    wrt_region = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.4, ignore_iof_thr=0.5,
                                ignore_wrt_candidates=False)
    assert wrt_region.assign(boxes, gt, gt_bboxes_ignore=ignore).gt_inds.tolist() == [1, 0, 0]
    off = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.4)  # ignore_iof_thr=-1
    assert off.assign(boxes, gt, gt_bboxes_ignore=ignore).gt_inds.tolist() == [1, 0, 0]


def test_empty_cases():
    assigner = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.5)
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [10.0, 10.0, 20.0, 20.0]])
    no_gt = assigner.assign(boxes, torch.zeros(0, 4), gt_labels=torch.zeros(0, dtype=torch.long))
    assert no_gt.gt_inds.tolist() == [0, 0] and no_gt.labels.tolist() == [-1, -1]
    assert no_gt.max_overlaps.tolist() == [0.0, 0.0] and no_gt.num_gts == 0
    no_box = assigner.assign(torch.zeros(0, 4), boxes)
    assert no_box.gt_inds.shape == (0,) and no_box.labels is None


def test_takes_a_built_iou_calculator():
    calls = []

    def calculator(a, b, mode="iou", is_aligned=False):
        calls.append(mode)
        return torch.tensor([[0.9, 0.1]])

    assigner = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.5, iou_calculator=calculator)
    result = assigner.assign(torch.zeros(2, 4), torch.zeros(1, 4))
    assert result.gt_inds.tolist() == [1, 0] and calls == ["iou"]


def test_built_from_config_with_cpu_fallback():
    assigner = TASK_UTILS.build(dict(type="MaxIoUAssigner", pos_iou_thr=0.7, neg_iou_thr=0.3,
                                     min_pos_iou=0.3, ignore_iof_thr=-1, gpu_assign_thr=1,
                                     iou_calculator=dict(type="BboxOverlaps2D")))
    gts = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 9.0], [20.0, 20.0, 29.0, 30.0], [50.0, 50, 60, 60]])
    result = assigner.assign(boxes, gts, gt_labels=torch.tensor([0, 1]))
    assert result.gt_inds.tolist() == [1, 2, 0]
    assert result.labels.tolist() == [0, 1, -1]
