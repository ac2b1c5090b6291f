"""UniformAssigner: k nearest predictions and anchors per ground truth, ignore thresholds."""

import torch

from detbox.models.task_modules.assigners import UniformAssigner


def test_matches_ignores_and_extra_properties():
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0],
                            [0.0, 0.0, 40.0, 40.0], [50.0, 50.0, 60.0, 60.0]])
    preds = torch.tensor([[1.0, 1.0, 11.0, 11.0], [0.0, 0.0, 9.0, 9.0],
                          [19.0, 19.0, 31.0, 31.0], [52.0, 52.0, 58.0, 58.0]])
    gts = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    result = UniformAssigner(pos_ignore_thr=0.15, neg_ignore_thr=0.7, match_times=1).assign(
        preds, anchors, gts, gt_labels=torch.tensor([3, 4]))
    # L1 (cx, cy, w, h) costs: gt 0's nearest prediction is 0 (2 < 3), gt 1's is 2; their
    # nearest anchors are 0 and 1. Matches in order [pred gt0, pred gt1, anchor gt0, anchor gt1]
    # = priors [0, 2, 0, 1]; prior 2's anchor overlaps gt 1 by 0.0625 < 0.15: ignored.
    # Prediction 1 overlaps gt 0 by 0.81 > 0.7 (ignored) but then matches gt 1 as an anchor.
    assert result.gt_inds.tolist() == [1, 2, -1, 0]
    assert result.labels.tolist() == [3, 4, -1, -1]
    assert result.get_extra_property("pos_idx").tolist() == [True, False, True, True]
    assert torch.equal(result.get_extra_property("pos_predicted_boxes"), preds[[0, 2, 0, 1]])
    assert torch.equal(result.get_extra_property("target_boxes"), gts[[0, 1, 0, 1]])


def test_low_anchor_iou_is_ignored_and_high_pred_iou_is_not_negative():
    anchors = torch.tensor([[0.0, 0.0, 100.0, 100.0], [200.0, 200.0, 210.0, 210.0]])
    preds = torch.tensor([[40.0, 40.0, 60.0, 60.0], [200.0, 200.0, 210.0, 210.0]])
    gts = torch.tensor([[40.0, 40.0, 60.0, 60.0], [201.0, 201.0, 210.0, 210.0]])
    result = UniformAssigner(0.15, 0.7, match_times=1).assign(preds, anchors, gts)
    # gt 0's match (prior 0) has anchor IoU 0.04 < 0.15: ignored (-1) despite the exact pred
    assert result.gt_inds.tolist() == [-1, 2]
    assert result.get_extra_property("pos_idx").tolist() == [False, True, False, True]


def test_no_ground_truth():
    result = UniformAssigner(0.15, 0.7).assign(torch.rand(5, 4), torch.rand(5, 4),
                                               torch.zeros(0, 4))
    assert (result.gt_inds == 0).all()
    assert result.get_extra_property("pos_predicted_boxes").shape == (0, 4)
