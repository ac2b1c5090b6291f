"""accuracy / Accuracy: top-k percentages and the score threshold."""

import pytest
import torch

from detbox.models.losses import Accuracy, accuracy

PRED = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
TARGET = torch.tensor([1, 1, 1])


def test_topk_and_thresh():
    assert accuracy(PRED, TARGET).item() == pytest.approx(200 / 3)
    top1, top2 = accuracy(PRED, TARGET, topk=(1, 2))
    assert top1.item() == pytest.approx(200 / 3) and top2.item() == pytest.approx(100.0)
    assert accuracy(PRED, TARGET, thresh=0.75).item() == pytest.approx(100 / 3)
    assert [a.item() for a in Accuracy(topk=(1,))(PRED, TARGET)] == [pytest.approx(200 / 3)]


def test_empty_and_errors():
    assert accuracy(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)).item() == 0.0
    with pytest.raises(AssertionError, match="maxk"):
        accuracy(PRED, TARGET, topk=3)
