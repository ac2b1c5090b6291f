"""MultiScaleDeformableAttention: equal to mmcv's PyTorch reference (recorded from mmcv 1.7.2 in
tests/data/mmdet_reference_detr/msda_reference.npz) forward and backward, layout, init."""

import numpy as np
import pytest
import torch

from detbox.models.layers.transformer import (
    MultiScaleDeformableAttention,
    multi_scale_deformable_attn_pytorch,
)
from tests.conftest import DATA

REF = DATA / "mmdet_reference_detr" / "msda_reference.npz"


def test_equals_mmcv_reference_forward_and_backward():
    ref = np.load(REF)
    value = torch.from_numpy(ref["value"]).requires_grad_()
    loc = torch.from_numpy(ref["sampling_locations"]).requires_grad_()
    weights = torch.from_numpy(ref["attention_weights"]).requires_grad_()
    assert float(loc.detach().min()) < 0 and float(loc.detach().max()) > 1  # zero padding
    out = multi_scale_deformable_attn_pytorch(value, torch.from_numpy(ref["spatial_shapes"]),
                                              loc, weights)
    out.backward(torch.from_numpy(ref["grad_output"]))
    for ours, key in ((out, "output"), (value.grad, "grad_value"),
                      (loc.grad, "grad_sampling_locations"),
                      (weights.grad, "grad_attention_weights")):
        np.testing.assert_allclose(ours.detach().numpy(), ref[key], rtol=1e-6, atol=1e-6,
                                   err_msg=key)


def test_sampling_at_a_pixel_centre_returns_its_value():
    value = torch.arange(12.0).view(1, 12, 1, 1)  # one level 3x4, one head, one channel
    shapes = torch.tensor([[3, 4]])
    loc = torch.tensor([(2 + 0.5) / 4, (1 + 0.5) / 3]).view(1, 1, 1, 1, 1, 2)
    out = multi_scale_deformable_attn_pytorch(value, shapes, loc, torch.ones(1, 1, 1, 1, 1))
    assert float(out) == 6.0  # row 1, column 2


def test_module_layout_init_and_shapes():
    attn = MultiScaleDeformableAttention(embed_dims=16, num_heads=2, num_levels=2, num_points=3)
    assert sorted(attn.state_dict()) == [
        "attention_weights.bias", "attention_weights.weight", "output_proj.bias",
        "output_proj.weight", "sampling_offsets.bias", "sampling_offsets.weight",
        "value_proj.bias", "value_proj.weight"]
    assert attn.sampling_offsets.weight.shape == (2 * 2 * 3 * 2, 16)
    assert float(attn.sampling_offsets.weight.detach().abs().sum()) == 0
    grid = attn.sampling_offsets.bias.view(2, 2, 3, 2)
    # head 0 points along +x, head 1 along -x; point i is i + 1 steps out
    torch.testing.assert_close(grid[0, 0, :, 0], torch.tensor([1.0, 2.0, 3.0]))
    torch.testing.assert_close(grid[1, 1, :, 0], torch.tensor([-1.0, -2.0, -3.0]))
    shapes = torch.tensor([[4, 4], [2, 2]])
    query = torch.randn(7, 2, 16)
    value = torch.randn(20, 2, 16)
    mask = torch.zeros(2, 20, dtype=torch.bool)
    for ref in (torch.rand(2, 7, 2, 2), torch.rand(2, 7, 2, 4)):
        out = attn(query, value=value, reference_points=ref, spatial_shapes=shapes,
                   key_padding_mask=mask)
        assert out.shape == (7, 2, 16)
    batch_first = MultiScaleDeformableAttention(16, 2, 2, 3, batch_first=True)
    batch_first.load_state_dict(attn.state_dict())
    ref = torch.rand(2, 7, 2, 2)
    attn.eval(), batch_first.eval()
    torch.testing.assert_close(
        batch_first(query.transpose(0, 1), value=value.transpose(0, 1), reference_points=ref,
                    spatial_shapes=shapes).transpose(0, 1),
        attn(query, value=value, reference_points=ref, spatial_shapes=shapes))


def test_bad_inputs_are_errors():
    with pytest.raises(ValueError, match="divisible"):
        MultiScaleDeformableAttention(embed_dims=10, num_heads=4)
    attn = MultiScaleDeformableAttention(8, 2, 1, 1)
    with pytest.raises(ValueError, match="do not add up"):
        attn(torch.randn(3, 1, 8), value=torch.randn(5, 1, 8),
             reference_points=torch.rand(1, 3, 1, 2), spatial_shapes=torch.tensor([[2, 2]]))
    with pytest.raises(ValueError, match="2 or 4"):
        attn(torch.randn(3, 1, 8), value=torch.randn(4, 1, 8),
             reference_points=torch.rand(1, 3, 1, 3), spatial_shapes=torch.tensor([[2, 2]]))
