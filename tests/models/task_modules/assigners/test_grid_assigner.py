"""GridAssigner: max-IoU assignment restricted to responsible anchors, in MMDetection's order."""

import torch

from detbox.models.task_modules.assigners import GridAssigner
from detbox.registry import TASK_UTILS


def _assigner(**kw):
    assigner = TASK_UTILS.build(dict(type="GridAssigner", pos_iou_thr=0.5, neg_iou_thr=0.5,
                                 min_pos_iou=0, **kw))
    assert isinstance(assigner, GridAssigner)
    return assigner


ANCHORS = torch.tensor([[0.0, 0.0, 10.0, 10.0],    # IoU 0.9 with gt 0
                        [0.0, 0.0, 10.0, 10.0],    # same box, not responsible
                        [0.0, 0.0, 4.0, 4.0],      # IoU 0.16: negative
                        [50.0, 50.0, 60.0, 60.0],  # far: negative
                        [20.0, 20.0, 30.0, 30.0]])  # exact gt 1, responsible
GTS = torch.tensor([[0.0, 0.0, 10.0, 9.0], [20.0, 20.0, 30.0, 30.0]])


def test_only_responsible_anchors_become_positive():
    flags = torch.tensor([1, 0, 1, 0, 1], dtype=torch.uint8)
    result = _assigner().assign(ANCHORS, flags, GTS, torch.tensor([4, 7]))
    # the non-responsible twin of anchor 0 is neither positive nor negative
    assert result.gt_inds.tolist() == [1, -1, 0, 0, 2]
    assert result.labels.tolist() == [4, -1, -1, -1, 7]


def test_a_gt_takes_its_best_responsible_anchor_below_pos_iou_thr():
    flags = torch.tensor([0, 0, 1, 0, 0], dtype=torch.uint8)
    result = _assigner().assign(ANCHORS, flags, GTS[:1])
    # anchor 2 (IoU 0.18 > min_pos_iou 0) is gt 0's best responsible anchor
    assert result.gt_inds.tolist() == [-1, -1, 1, 0, 0]


def test_without_ground_truths_everything_is_negative():
    result = _assigner().assign(ANCHORS, torch.ones(5, dtype=torch.uint8), torch.zeros(0, 4),
                                torch.zeros(0, dtype=torch.long))
    assert result.gt_inds.tolist() == [0] * 5 and result.labels.tolist() == [-1] * 5
