"""FFN: mmcv 1.x's layout, identity handling and deprecated names."""

import pytest
import torch

from detbox.models.layers.transformer import FFN, DropPath, build_feedforward_network


def test_state_dict_layout_for_three_fcs():
    ffn = FFN(embed_dims=4, feedforward_channels=6, num_fcs=3)
    shapes = {k: tuple(v.shape) for k, v in ffn.state_dict().items()}
    assert shapes == {"layers.0.0.weight": (6, 4), "layers.0.0.bias": (6,),
                      "layers.1.0.weight": (6, 6), "layers.1.0.bias": (6,),
                      "layers.2.weight": (4, 6), "layers.2.bias": (4,)}


def test_forward_is_linear_act_linear_plus_identity():
    torch.manual_seed(0)
    ffn = FFN(embed_dims=4, feedforward_channels=8, act_cfg=dict(type="GELU"))
    x, identity = torch.randn(2, 5, 4), torch.randn(2, 5, 4)
    fc1, fc2 = ffn.layers[0][0], ffn.layers[1]
    expected = fc2(torch.nn.functional.gelu(fc1(x)))
    torch.testing.assert_close(ffn(x), x + expected)
    torch.testing.assert_close(ffn(x, identity=identity), identity + expected)
    ffn.add_identity = False
    torch.testing.assert_close(ffn(x), expected)


def test_dropout_layer_and_registry_build():
    ffn = build_feedforward_network(dict(type="FFN", embed_dims=4, feedforward_channels=8,
                                         dropout_layer=dict(type="DropPath", drop_prob=0.3)))
    assert isinstance(ffn, FFN) and isinstance(ffn.dropout_layer, DropPath)
    assert ffn.dropout_layer.drop_prob == 0.3


def test_deprecated_names_and_bad_arguments():
    with pytest.warns(DeprecationWarning) as record:
        ffn = FFN(embed_dims=4, feedforward_channels=8, dropout=0.2, add_residual=False)
    assert {str(w.message).split("'")[1] for w in record} == {"dropout", "add_residual"}
    assert ffn.layers[0][2].p == 0.2 and ffn.layers[2].p == 0.2 and ffn.add_identity is False
    x = torch.zeros(1, 2, 4)
    with pytest.warns(DeprecationWarning, match="identity"):
        ffn.add_identity = True
        ffn.eval()(x, residual=torch.ones(1, 2, 4))
    with pytest.raises(TypeError, match="feedforward_channel"):
        FFN(embed_dims=4, feedforward_channel=8)
    with pytest.raises(ValueError, match="num_fcs"):
        FFN(num_fcs=1)
