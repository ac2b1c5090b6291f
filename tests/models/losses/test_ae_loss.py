"""``AssociativeEmbeddingLoss``: pull and push on hand-built embeddings."""

import pytest
import torch

from detbox.models.losses import AssociativeEmbeddingLoss


def test_pull_and_push_values():
    tl, br = torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3)
    tl[0, 0, 0, 0], br[0, 0, 2, 2] = 0.0, 1.0   # box 0: mean 0.5, pull 2 * 0.25
    tl[0, 0, 1, 0], br[0, 0, 1, 2] = 0.6, 0.6   # box 1: mean 0.6, pull 0
    match = [[[[0, 0], [2, 2]], [[1, 0], [1, 2]]]]
    pull, push = AssociativeEmbeddingLoss(pull_weight=1.0, push_weight=0.5)(tl, br, match)
    assert pull.item() == pytest.approx(0.5 / 2)
    assert push.item() == pytest.approx(0.5 * 2 * (1 - 0.1) / 2)


def test_no_boxes_and_single_box_give_zero_push():
    emb = torch.randn(2, 1, 3, 3, requires_grad=True)
    pull, push = AssociativeEmbeddingLoss()(emb, emb, [[], [[[0, 0], [1, 1]]]])
    assert push.item() == 0.0
    pull.backward()
    assert emb.grad is not None
