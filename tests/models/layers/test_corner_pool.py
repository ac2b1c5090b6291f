"""``CornerPool`` against mmcv 1.7.2's op (forward and backward, golden from the side venv)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from detbox.models.layers import CornerPool

GOLDEN = Path(__file__).parents[2] / "data" / "mmdet_reference_cornernet" / "corner_pool.npz"
MODES = ("top", "bottom", "left", "right")


@pytest.mark.parametrize("mode", MODES)
def test_matches_mmcv_forward_and_backward(mode: str) -> None:
    data = np.load(GOLDEN)
    x = torch.tensor(data["x"], requires_grad=True)
    out = CornerPool(mode)(x)
    (out * torch.tensor(data["w"])).sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), data[f"out_{mode}"])
    np.testing.assert_allclose(x.grad.numpy(), data[f"grad_{mode}"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_is_the_max_over_the_half_line(mode: str) -> None:
    x = torch.randn(1, 2, 4, 5)
    out = CornerPool(mode)(x)
    for i in range(4):
        for j in range(5):
            region = {"top": x[..., i:, j], "bottom": x[..., :i + 1, j],
                      "left": x[..., i, j:], "right": x[..., i, :j + 1]}[mode]
            torch.testing.assert_close(out[..., i, j], region.amax(-1))


def test_rejects_unknown_mode() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        CornerPool("up")
