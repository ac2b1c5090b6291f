"""Transformer bricks with mmcv 1.x / MMDetection v2 names and state_dict layouts.

Importing this package registers ``FFN``, ``DropPath`` and ``Dropout`` in
``detbox.registry.LAYERS`` (the flat registry of every building block; mmcv spreads them over
``FEEDFORWARD_NETWORK`` and ``DROPOUT_LAYERS``). Attention modules and transformer layers go in
the same registry.
"""

from .adaptive_padding import AdaptivePadding
from .drop import Dropout, DropPath, build_dropout, drop_path
from .ffn import FFN, build_feedforward_network
from .layout import nchw_to_nlc, nlc_to_nchw, to_2tuple
from .multihead_attention import MultiheadAttention
from .patch_embed import PatchEmbed
from .patch_merging import PatchMerging

__all__ = [
    "AdaptivePadding", "PatchEmbed", "PatchMerging", "FFN", "build_feedforward_network",
    "DropPath", "Dropout", "build_dropout", "drop_path", "nlc_to_nchw", "nchw_to_nlc",
    "to_2tuple", "MultiheadAttention",
]
