"""mmcv 1.x's transformer builders, over detbox's flat ``LAYERS`` registry.

mmcv keeps one registry per kind (``ATTENTION``, ``FEEDFORWARD_NETWORK``,
``TRANSFORMER_LAYER``, ``TRANSFORMER_LAYER_SEQUENCE``, ``POSITIONAL_ENCODING`` and
MMDetection's ``TRANSFORMER``). Their type names never collide, so detbox registers all of
them in ``LAYERS``, beside ``FFN`` and ``MultiheadAttention``: like convs and norms, their
dicts are rewritten by the modules that build them (``batch_first`` and ``embed_dims`` are
filled in, deprecated arguments moved into ``ffn_cfgs``), so the registry does not check a
config dict against the constructor's signature; the constructors reject unknown
arguments themselves. The functions keep mmcv's names.
"""

from __future__ import annotations

from typing import Any

from detbox.registry import LAYERS

from .ffn import build_feedforward_network

__all__ = [
    "build_attention", "build_feedforward_network", "build_transformer_layer",
    "build_transformer_layer_sequence", "build_positional_encoding", "build_transformer",
]


def build_attention(cfg: dict, default_args: dict | None = None) -> Any:
    """An attention module (``MultiheadAttention``, ``MultiScaleDeformableAttention``)."""
    return LAYERS.build(cfg, default_args)


def build_transformer_layer(cfg: dict, default_args: dict | None = None) -> Any:
    """A transformer layer (``BaseTransformerLayer``, ``DetrTransformerDecoderLayer``)."""
    return LAYERS.build(cfg, default_args)


def build_transformer_layer_sequence(cfg: dict, default_args: dict | None = None) -> Any:
    """An encoder or decoder (``DetrTransformerEncoder``, ``DetrTransformerDecoder``...)."""
    return LAYERS.build(cfg, default_args)


def build_positional_encoding(cfg: dict, default_args: dict | None = None) -> Any:
    """A positional encoding (``SinePositionalEncoding``, ``LearnedPositionalEncoding``)."""
    return LAYERS.build(cfg, default_args)


def build_transformer(cfg: dict, default_args: dict | None = None) -> Any:
    """MMDetection's ``TRANSFORMER`` kind (``Transformer``, ``DynamicConv``...)."""
    return LAYERS.build(cfg, default_args)
