"""Building optimizers from configs, with per-parameter settings (mmcv 1.x semantics).

Every ``torch.optim`` optimizer is registered in ``OPTIMIZERS`` under its class name, so
``optimizer = dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001)`` works as in
MMDetection v2. ``paramwise_cfg`` gives parameters their own lr / weight decay:

>>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
>>> opt = build_optimizer(model, dict(type='SGD', lr=0.1, weight_decay=1e-4,
...                                   paramwise_cfg=dict(bias_lr_mult=2., norm_decay_mult=0.)))
>>> [(g['lr'], g['weight_decay']) for g in opt.param_groups]
[(0.1, 0.0001), (0.2, 0.0001), (0.1, 0.0), (0.1, 0.0)]
"""

from __future__ import annotations

import copy
import inspect
import logging
from typing import Any

import torch
from torch import nn

from ..registry import OPTIMIZER_BUILDERS, OPTIMIZERS
from .parallel import unwrap_model

__all__ = ["DefaultOptimizerConstructor", "build_optimizer", "build_optimizer_constructor",
           "TORCH_OPTIMIZERS"]

_LOGGER = logging.getLogger(__name__)

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm, nn.GroupNorm,
          nn.LayerNorm)
_DCN_NAMES = {"DeformConv2d", "ModulatedDeformConv2d"}


def _register_torch_optimizers() -> list[str]:
    names = []
    for name in dir(torch.optim):
        obj = getattr(torch.optim, name)
        if not name.startswith("__") and inspect.isclass(obj) and issubclass(
                obj, torch.optim.Optimizer):
            if OPTIMIZERS.get(name) is None:
                OPTIMIZERS.register_module(module=obj)
            names.append(name)
    return names


TORCH_OPTIMIZERS = _register_torch_optimizers()


def _is_dcn(module: nn.Module) -> bool:
    """Deformable convs (ours or torchvision's) by class name, as models may not be imported."""
    return any(klass.__name__ in _DCN_NAMES for klass in type(module).__mro__)


@OPTIMIZER_BUILDERS.register_module()
class DefaultOptimizerConstructor:
    """Builds an optimizer, optionally with one param group per parameter (``paramwise_cfg``).

    ``paramwise_cfg`` keys (all optional):

    - ``custom_keys``: ``{substring: dict(lr_mult=, decay_mult=)}``; a parameter whose full
      name (``backbone.layer1.0.conv1.weight``) contains a key gets ``lr * lr_mult`` and
      ``weight_decay * decay_mult`` and no other rule. The longest matching key wins, ties go
      to the alphabetically first.
    - ``bias_lr_mult``: lr multiplier of biases (not of norm layers or DCN offsets).
    - ``bias_decay_mult``: weight decay multiplier of biases (not of norm, depthwise conv or
      DCN layers).
    - ``norm_decay_mult``: weight decay multiplier of norm layers' weight and bias (BN, SyncBN,
      IN, GN, LN).
    - ``dwconv_decay_mult``: weight decay multiplier of depthwise convs (``groups ==
      in_channels``).
    - ``dcn_offset_lr_mult``: lr multiplier of the ``conv_offset`` layers inside deformable
      convs (it overrides ``bias_lr_mult`` there).
    - ``bypass_duplicate``: skip (with a warning) parameters already in an earlier group.

    Parameters with ``requires_grad=False`` keep their own group with the defaults.

    Args:
        optimizer_cfg: ``dict(type='SGD', lr=..., ...)``.
        paramwise_cfg: the options above, or ``None`` for one group of all parameters.
    """

    def __init__(self, optimizer_cfg: dict, paramwise_cfg: dict | None = None) -> None:
        if not isinstance(optimizer_cfg, dict):
            raise TypeError(f"optimizer_cfg must be a dict, got {type(optimizer_cfg)}")
        self.optimizer_cfg = optimizer_cfg
        self.paramwise_cfg = {} if paramwise_cfg is None else paramwise_cfg
        self.base_lr = optimizer_cfg.get("lr", None)
        self.base_wd = optimizer_cfg.get("weight_decay", None)
        self._validate_cfg()

    def _validate_cfg(self) -> None:
        if not isinstance(self.paramwise_cfg, dict):
            raise TypeError(f"paramwise_cfg must be None or a dict, got {type(self.paramwise_cfg)}")
        custom_keys = self.paramwise_cfg.get("custom_keys", {})
        if not isinstance(custom_keys, dict):
            raise TypeError(f"paramwise_cfg.custom_keys must be a dict, got {type(custom_keys)}")
        if self.base_wd is None:
            for key, value in custom_keys.items():
                if "decay_mult" in value:
                    raise ValueError(f"paramwise_cfg.custom_keys['{key}'] sets decay_mult but the "
                                     f"optimizer has no weight_decay")
            for key in ("bias_decay_mult", "norm_decay_mult", "dwconv_decay_mult"):
                if key in self.paramwise_cfg:
                    raise ValueError(f"paramwise_cfg.{key} needs the optimizer's weight_decay")

    @staticmethod
    def _is_in(param_group: dict, param_group_list: list[dict]) -> bool:
        params = set(param_group["params"])
        seen: set = set()
        for group in param_group_list:
            seen.update(group["params"])
        return not params.isdisjoint(seen)

    def add_params(self, params: list[dict], module: nn.Module, prefix: str = "",
                   is_dcn_module: bool | None = None) -> None:
        """Append one group per direct parameter of ``module``, then recurse into children.

        Args:
            params: the param groups being built (modified in place).
            module: the module.
            prefix: the module's name in the model (``backbone.layer1``).
            is_dcn_module: whether ``module`` is a child of a deformable conv.
        """
        cfg = self.paramwise_cfg
        custom_keys = cfg.get("custom_keys", {})
        sorted_keys = sorted(sorted(custom_keys), key=len, reverse=True)
        bias_lr_mult = cfg.get("bias_lr_mult", 1.0)
        bias_decay_mult = cfg.get("bias_decay_mult", 1.0)
        norm_decay_mult = cfg.get("norm_decay_mult", 1.0)
        dwconv_decay_mult = cfg.get("dwconv_decay_mult", 1.0)
        bypass_duplicate = cfg.get("bypass_duplicate", False)
        dcn_offset_lr_mult = cfg.get("dcn_offset_lr_mult", 1.0)

        is_norm = isinstance(module, _NORMS)
        is_dwconv = isinstance(module, nn.Conv2d) and module.in_channels == module.groups

        for name, param in module.named_parameters(recurse=False):
            group: dict[str, Any] = {"params": [param]}
            if not param.requires_grad:
                params.append(group)
                continue
            if bypass_duplicate and self._is_in(group, params):
                _LOGGER.warning("%s is duplicate. It is skipped since bypass_duplicate=True",
                                prefix)
                continue
            full_name = f"{prefix}.{name}"
            key = next((k for k in sorted_keys if k in full_name), None)
            if key is not None:
                group["lr"] = self.base_lr * custom_keys[key].get("lr_mult", 1.0)
                if self.base_wd is not None:
                    group["weight_decay"] = self.base_wd * custom_keys[key].get("decay_mult", 1.0)
            else:
                if name == "bias" and not (is_norm or is_dcn_module):
                    group["lr"] = self.base_lr * bias_lr_mult
                if ("conv_offset" in prefix and is_dcn_module
                        and isinstance(module, nn.Conv2d)):
                    group["lr"] = self.base_lr * dcn_offset_lr_mult
                if self.base_wd is not None:
                    if is_norm:
                        group["weight_decay"] = self.base_wd * norm_decay_mult
                    elif is_dwconv:
                        group["weight_decay"] = self.base_wd * dwconv_decay_mult
                    elif name == "bias" and not is_dcn_module:
                        group["weight_decay"] = self.base_wd * bias_decay_mult
            params.append(group)

        child_is_dcn = _is_dcn(module)
        for child_name, child in module.named_children():
            child_prefix = f"{prefix}.{child_name}" if prefix else child_name
            self.add_params(params, child, prefix=child_prefix, is_dcn_module=child_is_dcn)

    def __call__(self, model: nn.Module) -> torch.optim.Optimizer:
        model = unwrap_model(model)
        optimizer_cfg = dict(self.optimizer_cfg)
        if not self.paramwise_cfg:
            optimizer_cfg["params"] = model.parameters()
        else:
            params: list[dict] = []
            self.add_params(params, model)
            optimizer_cfg["params"] = params
        return OPTIMIZERS.build(optimizer_cfg)


def build_optimizer_constructor(cfg: dict) -> Any:
    """Build an optimizer constructor from OPTIMIZER_BUILDERS."""
    return OPTIMIZER_BUILDERS.build(cfg)


def build_optimizer(model: nn.Module, cfg: dict) -> torch.optim.Optimizer:
    """Build the optimizer of a config's ``optimizer`` section for ``model``.

    Args:
        model: the model (wrappers are unwrapped).
        cfg: ``dict(type=..., lr=..., paramwise_cfg=..., constructor=...)``; ``constructor``
            names an OPTIMIZER_BUILDERS entry (``DefaultOptimizerConstructor`` by default).
    """
    optimizer_cfg = copy.deepcopy(dict(cfg))
    constructor_type = optimizer_cfg.pop("constructor", "DefaultOptimizerConstructor")
    paramwise_cfg = optimizer_cfg.pop("paramwise_cfg", None)
    constructor = build_optimizer_constructor(dict(
        type=constructor_type, optimizer_cfg=optimizer_cfg, paramwise_cfg=paramwise_cfg))
    return constructor(model)
