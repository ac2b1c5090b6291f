"""``LearningRateDecayOptimizerConstructor``: layer-wise lr decay for ConvNeXt backbones.

MMDetection 2.28.2's rules, used by its ConvNeXt configs::

    optimizer = dict(constructor='LearningRateDecayOptimizerConstructor', type='AdamW',
                     lr=0.0002, betas=(0.9, 0.999), weight_decay=0.05,
                     paramwise_cfg=dict(decay_rate=0.7, decay_type='layer_wise', num_layers=12))

Every trainable parameter gets a layer id (:func:`get_layer_id_for_convnext` for
``decay_type='layer_wise'``, :func:`get_stage_id_for_convnext` for ``'stage_wise'``) and the lr
``lr * decay_rate ** (num_layers + 2 - layer_id - 1)``; parameters outside the backbone get the
largest id (the full lr). One-dimensional parameters, biases and parameters named
``pos_embed`` / ``cls_token`` get no weight decay. Groups are ``layer_{id}_decay`` /
``layer_{id}_no_decay`` in order of first appearance in ``model.named_parameters()``; each
group also carries ``group_name``, ``lr_scale`` and ``param_names``, as MMDetection's do.
"""

from __future__ import annotations

import json
import logging

from torch import nn

from ..registry import OPTIMIZER_BUILDERS
from .dist import get_dist_info
from .optim import DefaultOptimizerConstructor

__all__ = ["LearningRateDecayOptimizerConstructor", "get_layer_id_for_convnext",
           "get_stage_id_for_convnext"]

_LOGGER = logging.getLogger(__name__)

_EMBEDDINGS = ("backbone.cls_token", "backbone.mask_token", "backbone.pos_embed")


def get_layer_id_for_convnext(var_name: str, max_layer_id: int) -> int:
    """Layer id of a parameter for ``layer_wise`` decay (MMDetection's rule).

    Stem: 0; stage 0: 1; downsample 1 and stage 1: 2; downsample 2: 3; stage 2 block ``b``:
    ``3 + b // 3``; downsample 3 and stage 3: ``max_layer_id``; anything else (the backbone's
    output norms, neck, heads): ``max_layer_id + 1``.

    >>> get_layer_id_for_convnext('backbone.stages.2.7.gamma', 12)
    5
    >>> get_layer_id_for_convnext('backbone.norm3.weight', 12)
    13
    """
    if var_name in _EMBEDDINGS:
        return 0
    if var_name.startswith("backbone.downsample_layers"):
        stage_id = int(var_name.split(".")[2])
        return {0: 0, 1: 2, 2: 3, 3: max_layer_id}[stage_id]
    if var_name.startswith("backbone.stages"):
        stage_id = int(var_name.split(".")[2])
        block_id = int(var_name.split(".")[3])
        return {0: 1, 1: 2, 2: 3 + block_id // 3, 3: max_layer_id}[stage_id]
    return max_layer_id + 1


def get_stage_id_for_convnext(var_name: str, max_stage_id: int) -> int:
    """Stage id of a parameter for ``stage_wise`` decay (MMDetection's rule).

    Downsample layers: 0; stage ``s``: ``s + 1``; anything else: ``max_stage_id - 1``.

    >>> get_stage_id_for_convnext('backbone.stages.1.0.gamma', 8)
    2
    >>> get_stage_id_for_convnext('neck.fpn_convs.0.conv.weight', 8)
    7
    """
    if var_name in _EMBEDDINGS or var_name.startswith("backbone.downsample_layers"):
        return 0
    if var_name.startswith("backbone.stages"):
        return int(var_name.split(".")[2]) + 1
    return max_stage_id - 1


@OPTIMIZER_BUILDERS.register_module()
class LearningRateDecayOptimizerConstructor(DefaultOptimizerConstructor):
    """Param groups with lrs decaying from the head down to the ConvNeXt stem.

    ``paramwise_cfg`` keys: ``num_layers`` (required), ``decay_rate`` (required),
    ``decay_type`` (``'layer_wise'``, the default, or ``'stage_wise'``). The model must have a
    ``backbone`` whose class name contains ``ConvNeXt``.
    """

    def _validate_cfg(self) -> None:
        super()._validate_cfg()
        for key in ("num_layers", "decay_rate"):
            if self.paramwise_cfg.get(key) is None:
                raise KeyError(f"LearningRateDecayOptimizerConstructor needs "
                               f"optimizer.paramwise_cfg.{key}")
        decay_type = self.paramwise_cfg.get("decay_type", "layer_wise")
        if "layer_wise" not in decay_type and decay_type != "stage_wise":
            raise ValueError(f"optimizer.paramwise_cfg.decay_type must be 'layer_wise' or "
                             f"'stage_wise', got {decay_type!r}")

    def add_params(self, params: list[dict], module: nn.Module, prefix: str = "",
                   is_dcn_module: bool | None = None) -> None:
        """Append the decay groups of ``module`` (the whole detector) to ``params``."""
        cfg = self.paramwise_cfg
        num_layers = cfg["num_layers"] + 2
        decay_rate = cfg["decay_rate"]
        decay_type = cfg.get("decay_type", "layer_wise")
        backbone = getattr(module, "backbone", None)
        if backbone is None or "ConvNeXt" not in type(backbone).__name__:
            raise NotImplementedError(
                f"LearningRateDecayOptimizerConstructor supports ConvNeXt backbones only, got "
                f"{type(backbone).__name__ if backbone is not None else 'no backbone'}")
        _LOGGER.info("Build LearningRateDecayOptimizerConstructor %s %s - %s", decay_type,
                     decay_rate, num_layers)
        groups: dict[str, dict] = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue  # frozen weights are not optimized
            if param.ndim == 1 or name.endswith(".bias") or name in ("pos_embed", "cls_token"):
                decay, weight_decay = "no_decay", 0.0
            else:
                decay, weight_decay = "decay", self.base_wd
            if "layer_wise" in decay_type:
                layer_id = get_layer_id_for_convnext(name, cfg["num_layers"])
            else:
                layer_id = get_stage_id_for_convnext(name, num_layers)
            _LOGGER.debug("set param %s as id %d", name, layer_id)
            group_name = f"layer_{layer_id}_{decay}"
            if group_name not in groups:
                scale = decay_rate ** (num_layers - layer_id - 1)
                groups[group_name] = {"weight_decay": weight_decay, "params": [],
                                      "param_names": [], "lr_scale": scale,
                                      "group_name": group_name, "lr": scale * self.base_lr}
            groups[group_name]["params"].append(param)
            groups[group_name]["param_names"].append(name)
        if get_dist_info()[0] == 0:
            shown = {key: {k: g[k] for k in ("param_names", "lr_scale", "lr", "weight_decay")}
                     for key, g in groups.items()}
            _LOGGER.info("Param groups = %s", json.dumps(shown, indent=2))
        params.extend(groups.values())
