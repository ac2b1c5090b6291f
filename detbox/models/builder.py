"""Build models from config dicts; a list of dicts becomes an ``nn.Sequential`` (``neck=[...]``)."""

from __future__ import annotations

import warnings
from typing import Any

from torch import nn

from ..registry import (
    BACKBONES,
    DETECTORS,
    HEADS,
    LOSSES,
    MODELS,
    NECKS,
    ROI_EXTRACTORS,
    SHARED_HEADS,
)

__all__ = ["MODELS", "BACKBONES", "NECKS", "HEADS", "ROI_EXTRACTORS", "SHARED_HEADS", "LOSSES",
           "DETECTORS", "build_model", "build_backbone", "build_neck", "build_head",
           "build_loss", "build_roi_extractor", "build_shared_head", "build_detector"]


def build_model(cfg: dict | list[dict], default_args: dict | None = None) -> nn.Module:
    """Build one component, or a sequence of them from a list (state_dict keys ``neck.0.*``)."""
    if isinstance(cfg, (list, tuple)):
        return nn.Sequential(*[MODELS.build(c, default_args) for c in cfg])
    return MODELS.build(cfg, default_args)


build_backbone = build_neck = build_head = build_loss = build_roi_extractor = build_model
build_shared_head = build_model


def build_detector(cfg: dict, train_cfg: Any = None, test_cfg: Any = None) -> nn.Module:
    """Build a detector; ``train_cfg``/``test_cfg`` outside ``model`` are the deprecated v1 form."""
    if train_cfg is not None or test_cfg is not None:
        warnings.warn("train_cfg and test_cfg belong in the model field of the config",
                      UserWarning, stacklevel=2)
        if "train_cfg" in cfg and train_cfg is not None:
            raise ValueError("train_cfg is given both outside and inside the model field")
        if "test_cfg" in cfg and test_cfg is not None:
            raise ValueError("test_cfg is given both outside and inside the model field")
    return MODELS.build(cfg, default_args=dict(train_cfg=train_cfg, test_cfg=test_cfg))
