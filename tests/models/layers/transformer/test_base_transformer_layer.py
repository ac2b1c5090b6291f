"""BaseTransformerLayer / TransformerLayerSequence / DETR encoder and decoder: mmcv's config
handling (attn_cfgs, ffn_cfgs, deprecated FFN args, batch_first), order, pre-norm, keys."""

import pytest
import torch

from detbox.models.layers.transformer import (
    BaseTransformerLayer,
    DetrTransformerDecoder,
    DetrTransformerDecoderLayer,
    DetrTransformerEncoder,
    TransformerLayerSequence,
)
from detbox.registry import LAYERS

# MMDetection's DETR configs use mmcv's deprecated arguments (mmcv warns, and so do we)
pytestmark = [pytest.mark.filterwarnings("ignore:The arguments `:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:The argument `dropout`:DeprecationWarning")]

ATTN = dict(type="MultiheadAttention", embed_dims=8, num_heads=2)
FFN = dict(type="FFN", embed_dims=8, feedforward_channels=16)


def test_deprecated_ffn_arguments_reach_the_ffn():
    with pytest.warns(DeprecationWarning, match="feedforward_channels"):
        layer = BaseTransformerLayer(attn_cfgs=ATTN, ffn_cfgs=dict(FFN), feedforward_channels=12,
                                     ffn_dropout=0.3, ffn_num_fcs=3,
                                     operation_order=("self_attn", "norm", "ffn", "norm"))
    ffn = layer.ffns[0]
    assert (ffn.feedforward_channels, ffn.num_fcs) == (12, 3)
    assert ffn.layers[0][2].p == 0.3
    assert sorted(k.split(".")[0] for k in layer.state_dict()) == sorted(
        ["attentions"] * 4 + ["ffns"] * 6 + ["norms"] * 4)


def test_default_ffn_cfgs_are_mmcvs_and_need_256_channels():
    with pytest.raises(ValueError, match="embed_dims=256"):
        BaseTransformerLayer(attn_cfgs=ATTN, operation_order=("self_attn", "ffn"))
    layer = BaseTransformerLayer(attn_cfgs=dict(ATTN, embed_dims=256),
                                 operation_order=("self_attn", "ffn"))
    assert layer.ffns[0].feedforward_channels == 1024


def test_config_errors():
    with pytest.raises(ValueError, match="operation_order"):
        BaseTransformerLayer(attn_cfgs=ATTN, ffn_cfgs=FFN, operation_order=("self_attn", "mlp"))
    with pytest.raises(ValueError, match="length of attn_cfg"):
        BaseTransformerLayer(attn_cfgs=[ATTN], ffn_cfgs=FFN,
                             operation_order=("self_attn", "cross_attn", "ffn"))
    with pytest.raises(ValueError, match="batch_first"):
        BaseTransformerLayer(attn_cfgs=dict(ATTN, batch_first=True), ffn_cfgs=FFN,
                             operation_order=("self_attn", "ffn"))
    with pytest.raises(TypeError, match="feedforward_channel"):
        BaseTransformerLayer(attn_cfgs=ATTN, ffn_cfgs=FFN, operation_order=("self_attn", "ffn"),
                             feedforward_channel=3)
    with pytest.raises(ValueError, match="six operations"):
        DetrTransformerDecoderLayer(attn_cfgs=ATTN, feedforward_channels=16, ffn_cfgs=FFN,
                                    operation_order=("self_attn", "norm", "ffn", "norm"))


def test_post_norm_layer_equals_the_written_out_computation():
    torch.manual_seed(0)
    layer = BaseTransformerLayer(attn_cfgs=ATTN, ffn_cfgs=FFN,
                                 operation_order=("self_attn", "norm", "ffn", "norm")).eval()
    q, pos = torch.randn(5, 2, 8), torch.randn(5, 2, 8)
    mask = torch.zeros(2, 5, dtype=torch.bool)
    mask[1, 3:] = True
    attn = layer.attentions[0]
    x = layer.norms[0](attn(q, query_pos=pos, key_pos=pos, key_padding_mask=mask))
    expected = layer.norms[1](layer.ffns[0](x))
    torch.testing.assert_close(layer(q, query_pos=pos, query_key_padding_mask=mask), expected)


def test_pre_norm_identity_is_the_input_of_the_norm():
    torch.manual_seed(0)
    layer = BaseTransformerLayer(attn_cfgs=ATTN, ffn_cfgs=FFN,
                                 operation_order=("norm", "self_attn", "norm", "ffn")).eval()
    assert layer.pre_norm
    q = torch.randn(4, 1, 8)
    x = layer.attentions[0](layer.norms[0](q), identity=q)
    expected = layer.ffns[0](layer.norms[1](x), x)
    torch.testing.assert_close(layer(q), expected)
    enc = DetrTransformerEncoder(transformerlayers=dict(
        type="BaseTransformerLayer", attn_cfgs=ATTN, ffn_cfgs=FFN,
        operation_order=("norm", "self_attn", "norm", "ffn")), num_layers=2)
    assert enc.post_norm is not None  # pre-norm encoders end with a norm
    with pytest.raises(ValueError, match="post_norm_cfg"):
        DetrTransformerEncoder(transformerlayers=dict(
            type="BaseTransformerLayer", attn_cfgs=ATTN, ffn_cfgs=FFN,
            operation_order=("norm", "self_attn", "norm", "ffn")), num_layers=1,
            post_norm_cfg=None)


def test_sequences_and_the_detr_decoder():
    layer_cfg = dict(type="DetrTransformerDecoderLayer", attn_cfgs=ATTN, ffn_cfgs=FFN,
                     feedforward_channels=16,
                     operation_order=("self_attn", "norm", "cross_attn", "norm", "ffn", "norm"))
    seq = LAYERS.build(dict(type="TransformerLayerSequence", transformerlayers=layer_cfg,
                            num_layers=3))
    assert isinstance(seq, TransformerLayerSequence) and len(seq.layers) == 3
    assert seq.layers[0] is not seq.layers[1]
    with pytest.raises(ValueError, match="num_layers"):
        TransformerLayerSequence(transformerlayers=[layer_cfg], num_layers=2)
    dec = DetrTransformerDecoder(transformerlayers=layer_cfg, num_layers=2,
                                 return_intermediate=True).eval()
    q, mem = torch.randn(3, 2, 8), torch.randn(6, 2, 8)
    out = dec(q, key=mem, value=mem)
    assert out.shape == (2, 3, 2, 8)
    last = DetrTransformerDecoder(transformerlayers=layer_cfg, num_layers=2).eval()
    last.load_state_dict(dec.state_dict())
    torch.testing.assert_close(last(q, key=mem, value=mem)[0], out[-1])
    assert "post_norm.weight" in dec.state_dict()
