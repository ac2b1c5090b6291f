"""MultiheadAttention: mmcv 1.7's wrapper (residual, positional encodings, batch_first)."""

import pytest
import torch
from torch import nn

from detbox.models.layers.transformer import DropPath, MultiheadAttention
from detbox.registry import LAYERS


def _reference(attn: MultiheadAttention, q, k, v, identity, attn_mask=None, kpm=None):
    return identity + attn.attn(q, k, v, attn_mask=attn_mask, key_padding_mask=kpm)[0]


def test_state_dict_names_and_registry():
    attn = LAYERS.build(dict(type="MultiheadAttention", embed_dims=8, num_heads=2))
    shapes = {k: tuple(v.shape) for k, v in attn.state_dict().items()}
    assert shapes == {"attn.in_proj_weight": (24, 8), "attn.in_proj_bias": (24,),
                      "attn.out_proj.weight": (8, 8), "attn.out_proj.bias": (8,)}
    assert isinstance(attn.dropout_layer, nn.Dropout) and attn.dropout_layer.p == 0.0
    assert isinstance(MultiheadAttention(8, 2, dropout_layer=None).dropout_layer, nn.Identity)
    no_bias = MultiheadAttention(8, 2, bias=False)
    assert "attn.in_proj_bias" not in no_bias.state_dict()


def test_sequence_first_with_positions_and_masks():
    torch.manual_seed(0)
    attn = MultiheadAttention(8, 2).eval()
    q, k = torch.randn(5, 2, 8), torch.randn(7, 2, 8)
    v = torch.randn(7, 2, 8)
    qp, kp = torch.randn(5, 2, 8), torch.randn(7, 2, 8)
    kpm = torch.zeros(2, 7, dtype=torch.bool)
    kpm[1, 5:] = True
    mask = torch.zeros(5, 7, dtype=torch.bool)
    mask[0, 0] = True
    out = attn(q, k, v, query_pos=qp, key_pos=kp, attn_mask=mask, key_padding_mask=kpm)
    ref = _reference(attn, q + qp, k + kp, v, q, mask, kpm)
    torch.testing.assert_close(out, ref)
    # key_pos falls back to query_pos when shapes match; value defaults to key (without pos)
    q2 = torch.randn(5, 2, 8)
    out = attn(q2, query_pos=qp, identity=torch.zeros_like(q2))
    torch.testing.assert_close(out, attn.attn(q2 + qp, q2 + qp, q2)[0])
    with pytest.warns(UserWarning, match="position encoding of key is missing"):
        attn(q, k, query_pos=qp)


def test_batch_first_matches_sequence_first():
    torch.manual_seed(0)
    seq = MultiheadAttention(8, 2).eval()
    bf = MultiheadAttention(8, 2, batch_first=True).eval()
    bf.load_state_dict(seq.state_dict())
    x = torch.randn(3, 4, 8)  # [bs, n, C]
    torch.testing.assert_close(bf(x), seq(x.transpose(0, 1)).transpose(0, 1))


def test_deprecated_dropout_and_errors():
    with pytest.warns(DeprecationWarning):
        attn = MultiheadAttention(8, 2, dropout=0.1, dropout_layer=dict(type="DropPath",
                                                                         drop_prob=0.0))
    assert attn.attn.dropout == 0.1
    assert isinstance(attn.dropout_layer, DropPath) and attn.dropout_layer.drop_prob == 0.1
    with pytest.raises(TypeError, match="kdimm"):
        MultiheadAttention(8, 2, kdimm=4)


def test_outputs_equal_mmcv():
    """Recorded with mmcv 1.7.2's MultiheadAttention (tests/data/mmdet_reference_pvt/
    make_mha_reference.py): same weights, the calls DETR-style transformers make."""
    import importlib.util

    import numpy as np

    from tests.conftest import DATA

    path = DATA / "mmdet_reference_pvt" / "make_mha_reference.py"
    spec = importlib.util.spec_from_file_location("make_mha_reference", path)
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    ref = np.load(DATA / "mmdet_reference_pvt" / "mha_reference.npz")
    weights = {k[2:]: torch.from_numpy(ref[k]) for k in ref.files if k.startswith("w/")}
    for case, (batch_first, kwargs) in make.CASES.items():
        attn = MultiheadAttention(8, 2, batch_first=batch_first).eval()
        attn.load_state_dict(weights)
        with torch.no_grad():
            out = attn(**{k: torch.from_numpy(ref[f"in/{v}"]) for k, v in kwargs.items()})
        np.testing.assert_allclose(out.numpy(), ref[f"out/{case}"], rtol=1e-5, atol=1e-6,
                                   err_msg=case)
