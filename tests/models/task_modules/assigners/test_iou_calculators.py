"""BboxOverlaps2D: drops score columns, fp16 mode, registry build."""

import torch

import detbox.models  # noqa: F401  (registers the task modules)
from detbox.models.task_modules import BboxOverlaps2D
from detbox.registry import TASK_UTILS

A = torch.tensor([[0.0, 0.0, 10.0, 10.0, 0.9]])
B = torch.tensor([[5.0, 0.0, 15.0, 10.0], [0.0, 0.0, 10.0, 5.0]])


def test_score_column_is_dropped():
    calc = BboxOverlaps2D()
    torch.testing.assert_close(calc(A, B), torch.tensor([[1 / 3, 0.5]]))
    torch.testing.assert_close(calc(B, A, mode="iof"), torch.tensor([[0.5], [1.0]]))
    torch.testing.assert_close(calc(B, B[[1, 0]], is_aligned=True), torch.tensor([0.2, 0.2]))


def test_fp16_mode_returns_float32_on_cpu():
    calc = TASK_UTILS.build(dict(type="BboxOverlaps2D", scale=512.0, dtype="fp16"))
    out = calc(A, B)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch.tensor([[1 / 3, 0.5]]), atol=1e-3, rtol=0)
    assert repr(calc) == "BboxOverlaps2D(scale=512.0, dtype=fp16)"


def test_empty():
    assert BboxOverlaps2D()(torch.zeros(0, 4), B).shape == (0, 2)
