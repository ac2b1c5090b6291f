"""CrossEntropyLoss: softmax, sigmoid (one-hot with background) and mask variants."""

import math

import pytest
import torch
import torch.nn.functional as F

from detbox.models.losses import CrossEntropyLoss
from detbox.registry import MODELS

LOG2 = math.log(2)
EPS = torch.finfo(torch.float32).eps
LOGITS = torch.tensor([[0.0, 0.0], [math.log(3), 0.0]])  # softmax: [.5, .5], [.75, .25]
LABELS = torch.tensor([0, 1])  # losses: log 2, log 4


def test_softmax_by_hand():
    loss = CrossEntropyLoss()
    assert loss(LOGITS, LABELS).item() == pytest.approx(1.5 * LOG2)
    assert loss(LOGITS, LABELS, reduction_override="sum").item() == pytest.approx(3 * LOG2)
    torch.testing.assert_close(loss(LOGITS, LABELS, reduction_override="none"),
                               torch.tensor([LOG2, 2 * LOG2]))
    weight = torch.tensor([1.0, 0.0])
    assert loss(LOGITS, LABELS, weight).item() == pytest.approx(LOG2 / 2)
    assert loss(LOGITS, LABELS, weight, avg_factor=1).item() == pytest.approx(LOG2 / (1 + EPS))
    assert CrossEntropyLoss(loss_weight=2.0)(LOGITS, LABELS).item() == pytest.approx(3 * LOG2)
    weighted = CrossEntropyLoss(class_weight=[1.0, 2.0])
    assert weighted(LOGITS, LABELS).item() == pytest.approx((LOG2 + 4 * LOG2) / 2)


def test_softmax_ignore_index():
    labels = torch.tensor([0, -100])  # the default ignore index
    assert CrossEntropyLoss()(LOGITS, labels).item() == pytest.approx(LOG2 / 2)
    labels = torch.tensor([0, 255])
    with pytest.warns(UserWarning, match="avg_non_ignore"):
        loss = CrossEntropyLoss(ignore_index=255)
    assert loss(LOGITS, labels).item() == pytest.approx(LOG2 / 2)
    assert CrossEntropyLoss(ignore_index=255, avg_non_ignore=True)(LOGITS, labels).item() == \
        pytest.approx(LOG2, rel=1e-5)
    assert CrossEntropyLoss()(LOGITS, torch.tensor([0, 1]), ignore_index=1).item() == \
        pytest.approx(LOG2 / 2)


def test_sigmoid_expands_labels_with_background():
    pred = torch.tensor([[2.0, -1.0], [0.5, 1.0]])
    labels = torch.tensor([1, 2])  # 2 == num_classes: background, an all-zero row
    sp = F.softplus
    per_elem = torch.stack([sp(torch.tensor(2.0)), sp(torch.tensor(1.0)),
                            sp(torch.tensor(0.5)), sp(torch.tensor(1.0))])
    loss = CrossEntropyLoss(use_sigmoid=True)
    assert loss(pred, labels).item() == pytest.approx(per_elem.mean().item(), rel=1e-6)
    torch.testing.assert_close(loss(pred, labels, reduction_override="none"),
                               per_elem.view(2, 2))
    # a per-sample weight applies to the whole row
    assert loss(pred, labels, torch.tensor([0.0, 1.0]), reduction_override="sum").item() == \
        pytest.approx(per_elem[2:].sum().item(), rel=1e-6)
    # ignored rows get weight 0 but still count in the mean unless avg_non_ignore
    ignored = torch.tensor([1, -100])
    assert loss(pred, ignored).item() == pytest.approx(per_elem[:2].sum().item() / 4, rel=1e-6)
    strict = CrossEntropyLoss(use_sigmoid=True, avg_non_ignore=True)
    assert strict(pred, ignored).item() == pytest.approx(per_elem[:2].sum().item() / 2, rel=1e-6)


def test_sigmoid_same_shape_targets():
    pred = torch.tensor([0.0, 3.0])
    target = torch.tensor([1.0, 0.0])
    expected = (LOG2 + F.softplus(torch.tensor(3.0)).item()) / 2
    assert CrossEntropyLoss(use_sigmoid=True)(pred, target).item() == pytest.approx(expected)


def test_mask_cross_entropy_picks_class_channel():
    pred = torch.zeros(2, 3, 2, 2)
    pred[0, 2] = 2.0  # roi 0 is class 2
    target = torch.ones(2, 2, 2)
    loss = CrossEntropyLoss(use_mask=True)(pred, target, torch.tensor([2, 0]))
    expected = (F.softplus(torch.tensor(-2.0)).item() + LOG2) / 2
    assert loss.shape == (1,) and loss.item() == pytest.approx(expected, rel=1e-6)


def test_built_from_config_and_validation():
    loss = MODELS.build(dict(type="CrossEntropyLoss", use_sigmoid=True, loss_weight=1.0))
    assert loss.use_sigmoid
    with pytest.raises(AssertionError):
        CrossEntropyLoss(use_sigmoid=True, use_mask=True)
    with pytest.raises(ValueError, match="reduction"):
        CrossEntropyLoss()(LOGITS, LABELS, reduction_override="avg")
