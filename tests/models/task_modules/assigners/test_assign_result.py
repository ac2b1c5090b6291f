"""AssignResult: add_gt_, info and extra properties."""

import pytest
import torch

from detbox.models.task_modules import AssignResult


def make():
    return AssignResult(2, torch.tensor([1, 0, -1]), torch.tensor([0.7, 0.1, 0.0]),
                        labels=torch.tensor([3, -1, -1]))


def test_add_gt_prepends_ground_truths():
    result = make()
    result.add_gt_(torch.tensor([4, 5]))
    assert result.gt_inds.tolist() == [1, 2, 1, 0, -1]
    torch.testing.assert_close(result.max_overlaps, torch.tensor([1.0, 1.0, 0.7, 0.1, 0.0]))
    assert result.labels.tolist() == [4, 5, 3, -1, -1]
    assert result.num_preds == 5 and result.num_gts == 2


def test_add_gt_without_labels():
    result = AssignResult(1, torch.tensor([0]), torch.tensor([0.2]))
    result.add_gt_(torch.tensor([7]))
    assert result.gt_inds.tolist() == [1, 0] and result.labels is None


def test_info_and_extra_properties():
    result = make()
    result.set_extra_property("centerness", torch.ones(3))
    assert result.get_extra_property("centerness").shape == (3,)
    assert result.get_extra_property("missing") is None
    assert set(result.info) == {"num_gts", "num_preds", "gt_inds", "max_overlaps", "labels",
                                "centerness"}
    with pytest.raises(AssertionError, match="gt_inds"):
        result.set_extra_property("gt_inds", None)
    assert "labels.shape=(3,)" in repr(result)
