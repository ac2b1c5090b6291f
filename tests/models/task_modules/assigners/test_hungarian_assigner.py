"""HungarianAssigner: the least-cost one-to-one matching, empty cases."""

import pytest
import torch

from detbox.models.task_modules import HungarianAssigner

META = dict(img_shape=(100, 200, 3))


def assigner():
    return HungarianAssigner(cls_cost=dict(type="ClassificationCost", weight=1.0),
                             reg_cost=dict(type="BBoxL1Cost", weight=5.0, box_format="xywh"),
                             iou_cost=dict(type="IoUCost", iou_mode="giou", weight=2.0))


def test_each_gt_gets_the_prediction_on_it():
    # predictions (normalised cx, cy, w, h): 0 on gt 1, 2 on gt 0, 1 and 3 elsewhere
    preds = torch.tensor([[0.75, 0.5, 0.2, 0.4], [0.1, 0.1, 0.05, 0.05],
                          [0.25, 0.5, 0.3, 0.6], [0.9, 0.9, 0.05, 0.05]])
    gts = torch.tensor([[20.0, 20.0, 80.0, 80.0], [130.0, 30.0, 170.0, 70.0]])
    labels = torch.tensor([1, 0])
    cls = torch.zeros(4, 2)
    result = assigner().assign(preds, cls, gts, labels, META)
    assert result.gt_inds.tolist() == [2, 0, 1, 0]
    assert result.labels.tolist() == [0, -1, 1, -1]
    assert result.num_gts == 2 and result.max_overlaps is None


def test_classification_breaks_a_tie_of_boxes():
    preds = torch.tensor([[0.5, 0.5, 0.2, 0.2], [0.5, 0.5, 0.2, 0.2]])
    gts = torch.tensor([[80.0, 40.0, 120.0, 60.0]])
    cls = torch.tensor([[0.0, 3.0], [3.0, 0.0]])  # prediction 1 is sure of class 0
    result = assigner().assign(preds, cls, gts, torch.tensor([0]), META)
    assert result.gt_inds.tolist() == [0, 1]


def test_empty_cases():
    a = assigner()
    none = a.assign(torch.rand(3, 4), torch.rand(3, 2), torch.zeros(0, 4),
                    torch.zeros(0, dtype=torch.long), META)
    assert none.gt_inds.tolist() == [0, 0, 0] and none.labels.tolist() == [-1, -1, -1]
    nopred = a.assign(torch.zeros(0, 4), torch.zeros(0, 2), torch.rand(2, 4),
                      torch.tensor([0, 1]), META)
    assert nopred.gt_inds.numel() == 0
    with pytest.raises(ValueError, match="gt_bboxes_ignore"):
        a.assign(torch.rand(3, 4), torch.rand(3, 2), torch.rand(1, 4), torch.tensor([0]), META,
                 gt_bboxes_ignore=torch.rand(1, 4))
