"""Transformer bricks with mmcv 1.x / MMDetection v2 names and state_dict layouts.

Importing this package registers ``FFN``, ``DropPath`` and ``Dropout`` in
``detbox.registry.LAYERS`` (the flat registry of every building block; mmcv spreads them over
``FEEDFORWARD_NETWORK`` and ``DROPOUT_LAYERS``). Attention modules and transformer layers go in
the same registry.
"""

from .adaptive_padding import AdaptivePadding
from .base_transformer_layer import BaseTransformerLayer
from .builder import (
    build_attention,
    build_positional_encoding,
    build_transformer,
    build_transformer_layer,
    build_transformer_layer_sequence,
)
from .deformable_detr_transformer import (
    DeformableDetrTransformer,
    DeformableDetrTransformerDecoder,
    inverse_sigmoid,
)
from .detr_layers import DetrTransformerDecoder, DetrTransformerDecoderLayer, DetrTransformerEncoder
from .drop import Dropout, DropPath, build_dropout, drop_path
from .dynamic_conv import DynamicConv
from .ffn import FFN, build_feedforward_network
from .layout import nchw_to_nlc, nlc_to_nchw, to_2tuple
from .multi_scale_deform_attn import (
    MultiScaleDeformableAttention,
    multi_scale_deformable_attn_pytorch,
)
from .multihead_attention import MultiheadAttention
from .patch_embed import PatchEmbed
from .patch_merging import PatchMerging
from .positional_encoding import LearnedPositionalEncoding, SinePositionalEncoding
from .transformer import Transformer
from .transformer_layer_sequence import TransformerLayerSequence

__all__ = [
    "AdaptivePadding", "PatchEmbed", "PatchMerging", "FFN", "build_feedforward_network",
    "DropPath", "Dropout", "build_dropout", "drop_path", "nlc_to_nchw", "nchw_to_nlc",
    "to_2tuple", "MultiheadAttention",
    # DETR family (query-based detectors)
    "BaseTransformerLayer", "TransformerLayerSequence", "DetrTransformerEncoder",
    "DetrTransformerDecoderLayer", "DetrTransformerDecoder", "Transformer",
    "DeformableDetrTransformer", "DeformableDetrTransformerDecoder",
    "MultiScaleDeformableAttention", "multi_scale_deformable_attn_pytorch",
    "SinePositionalEncoding", "LearnedPositionalEncoding", "DynamicConv", "inverse_sigmoid",
    "build_attention", "build_transformer_layer", "build_transformer_layer_sequence",
    "build_positional_encoding", "build_transformer",
]
