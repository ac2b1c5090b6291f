"""Weight initialisation from ``init_cfg`` dicts, with mmcv 1.x's names and rules.

An ``init_cfg`` is a dict (or a list of dicts) such as
``dict(type='Kaiming', layer='Conv2d')``. ``layer`` names the classes to initialise: a module
matches when its class name, or the name of one of its class's *direct* bases, is listed
(``'_BatchNorm'`` matches ``BatchNorm2d``). ``override=dict(name='fc_cls', ...)`` initialises the
attribute ``fc_cls`` as a whole, with its own settings, or with the outer ones when it gives
only ``name``. ``bias_prob=p`` sets the bias to ``-log((1 - p) / p)``.
``dict(type='Pretrained', checkpoint=..., prefix=None)`` loads weights instead.

>>> net = nn.Sequential(nn.Conv2d(1, 2, 1), nn.Linear(2, 2))
>>> initialize(net, dict(type='Constant', val=1, bias=2, layer='Conv2d',
...                      override=dict(name='1', type='Constant', val=3)))
>>> net[0].weight.flatten().tolist(), net[0].bias.tolist(), net[1].weight[0].tolist()
([1.0, 1.0], [2.0, 2.0], [3.0, 3.0])
"""

from __future__ import annotations

import copy
import logging
import math
from typing import Any, Callable, Union

from torch import nn

from detbox.registry import Registry

__all__ = [
    "INITIALIZERS", "initialize", "constant_init", "xavier_init", "normal_init",
    "trunc_normal_init", "uniform_init", "kaiming_init", "caffe2_xavier_init",
    "bias_init_with_prob", "BaseInit", "ConstantInit", "XavierInit", "NormalInit",
    "TruncNormalInit", "UniformInit", "KaimingInit", "Caffe2XavierInit", "PretrainedInit",
]

logger = logging.getLogger(__name__)

# Initializers take ``init_cfg`` dicts; their arguments are checked like other components'.
INITIALIZERS = Registry("INITIALIZERS")

InitCfg = Union[dict, list]


def _has(module: nn.Module, name: str) -> bool:
    return getattr(module, name, None) is not None


def constant_init(module: nn.Module, val: float, bias: float = 0) -> None:
    """Fill ``module.weight`` with ``val`` and ``module.bias`` with ``bias`` (where present)."""
    if _has(module, "weight"):
        nn.init.constant_(module.weight, val)
    if _has(module, "bias"):
        nn.init.constant_(module.bias, bias)


def xavier_init(module: nn.Module, gain: float = 1, bias: float = 0,
                distribution: str = "normal") -> None:
    """Xavier (Glorot) ``'normal'`` or ``'uniform'`` weights, constant bias."""
    if distribution not in ("uniform", "normal"):
        raise ValueError(f"distribution must be 'uniform' or 'normal', got {distribution!r}")
    if _has(module, "weight"):
        if distribution == "uniform":
            nn.init.xavier_uniform_(module.weight, gain=gain)
        else:
            nn.init.xavier_normal_(module.weight, gain=gain)
    if _has(module, "bias"):
        nn.init.constant_(module.bias, bias)


def normal_init(module: nn.Module, mean: float = 0, std: float = 1, bias: float = 0) -> None:
    """Normal ``N(mean, std^2)`` weights, constant bias."""
    if _has(module, "weight"):
        nn.init.normal_(module.weight, mean, std)
    if _has(module, "bias"):
        nn.init.constant_(module.bias, bias)


def trunc_normal_init(module: nn.Module, mean: float = 0, std: float = 1, a: float = -2,
                      b: float = 2, bias: float = 0) -> None:
    """Normal weights truncated to ``[a, b]``, constant bias."""
    if _has(module, "weight"):
        nn.init.trunc_normal_(module.weight, mean, std, a, b)
    if _has(module, "bias"):
        nn.init.constant_(module.bias, bias)


def uniform_init(module: nn.Module, a: float = 0, b: float = 1, bias: float = 0) -> None:
    """Uniform ``U(a, b)`` weights, constant bias."""
    if _has(module, "weight"):
        nn.init.uniform_(module.weight, a, b)
    if _has(module, "bias"):
        nn.init.constant_(module.bias, bias)


def kaiming_init(module: nn.Module, a: float = 0, mode: str = "fan_out",
                 nonlinearity: str = "relu", bias: float = 0,
                 distribution: str = "normal") -> None:
    """Kaiming (He) weights (``fan_out``, ReLU gain by default), constant bias."""
    if distribution not in ("uniform", "normal"):
        raise ValueError(f"distribution must be 'uniform' or 'normal', got {distribution!r}")
    if _has(module, "weight"):
        fill = nn.init.kaiming_uniform_ if distribution == "uniform" else nn.init.kaiming_normal_
        fill(module.weight, a=a, mode=mode, nonlinearity=nonlinearity)
    if _has(module, "bias"):
        nn.init.constant_(module.bias, bias)


def caffe2_xavier_init(module: nn.Module, bias: float = 0) -> None:
    """Caffe2's ``XavierFill``: Kaiming uniform with ``a=1``, ``fan_in``."""
    kaiming_init(module, a=1, mode="fan_in", nonlinearity="leaky_relu", bias=bias,
                 distribution="uniform")


def bias_init_with_prob(prior_prob: float) -> float:
    """The bias whose sigmoid is ``prior_prob``: ``-log((1 - p) / p)``.

    >>> round(bias_init_with_prob(0.01), 4)
    -4.5951
    """
    return float(-math.log((1 - prior_prob) / prior_prob))


def _bases_names(m: nn.Module) -> list[str]:
    return [b.__name__ for b in type(m).__bases__]


class BaseInit:
    """Common arguments of the initializers.

    Args:
        bias: value of the biases.
        bias_prob: if set, the bias is :func:`bias_init_with_prob` of it (overrides ``bias``).
        layer: class name(s) to initialise (matched against the class and its direct bases).
    """

    def __init__(self, *, bias: float = 0, bias_prob: float | None = None,
                 layer: str | list[str] | None = None) -> None:
        self.wholemodule = False
        if not isinstance(bias, (int, float)):
            raise TypeError(f"bias must be a number, but got a {type(bias)}")
        if bias_prob is not None and not isinstance(bias_prob, float):
            raise TypeError(f"bias_prob type must be float, but got {type(bias_prob)}")
        if layer is None:
            layer = []
        elif not isinstance(layer, (str, list)):
            raise TypeError(f"layer must be a str or a list of str, but got a {type(layer)}")
        self.bias = bias_init_with_prob(bias_prob) if bias_prob is not None else bias
        self.layer = [layer] if isinstance(layer, str) else list(layer)

    def _fill(self, m: nn.Module) -> None:
        raise NotImplementedError

    def __call__(self, module: nn.Module) -> None:
        def init(m: nn.Module) -> None:
            if self.wholemodule or set(self.layer) & {type(m).__name__, *_bases_names(m)}:
                self._fill(m)

        module.apply(init)


@INITIALIZERS.register_module(name="Constant")
class ConstantInit(BaseInit):
    """Weights ``val``, biases ``bias``."""

    def __init__(self, val: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.val = val

    def _fill(self, m: nn.Module) -> None:
        constant_init(m, self.val, self.bias)


@INITIALIZERS.register_module(name="Xavier")
class XavierInit(BaseInit):
    """Xavier weights with ``gain`` from a ``'normal'`` or ``'uniform'`` distribution."""

    def __init__(self, gain: float = 1, distribution: str = "normal", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gain = gain
        self.distribution = distribution

    def _fill(self, m: nn.Module) -> None:
        xavier_init(m, self.gain, self.bias, self.distribution)


@INITIALIZERS.register_module(name="Normal")
class NormalInit(BaseInit):
    """Weights from ``N(mean, std^2)``."""

    def __init__(self, mean: float = 0, std: float = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mean = mean
        self.std = std

    def _fill(self, m: nn.Module) -> None:
        normal_init(m, self.mean, self.std, self.bias)


@INITIALIZERS.register_module(name="TruncNormal")
class TruncNormalInit(BaseInit):
    """Weights from ``N(mean, std^2)`` truncated to ``[a, b]``."""

    def __init__(self, mean: float = 0, std: float = 1, a: float = -2, b: float = 2,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mean = mean
        self.std = std
        self.a = a
        self.b = b

    def _fill(self, m: nn.Module) -> None:
        trunc_normal_init(m, self.mean, self.std, self.a, self.b, self.bias)


@INITIALIZERS.register_module(name="Uniform")
class UniformInit(BaseInit):
    """Weights from ``U(a, b)``."""

    def __init__(self, a: float = 0.0, b: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.a = a
        self.b = b

    def _fill(self, m: nn.Module) -> None:
        uniform_init(m, self.a, self.b, self.bias)


@INITIALIZERS.register_module(name="Kaiming")
class KaimingInit(BaseInit):
    """Kaiming weights (defaults: ``a=0``, ``mode='fan_out'``, ReLU, normal)."""

    def __init__(self, a: float = 0, mode: str = "fan_out", nonlinearity: str = "relu",
                 distribution: str = "normal", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.a = a
        self.mode = mode
        self.nonlinearity = nonlinearity
        self.distribution = distribution

    def _fill(self, m: nn.Module) -> None:
        kaiming_init(m, self.a, self.mode, self.nonlinearity, self.bias, self.distribution)


@INITIALIZERS.register_module(name="Caffe2Xavier")
class Caffe2XavierInit(KaimingInit):
    """Caffe2's ``XavierFill`` (Kaiming uniform, ``a=1``, ``fan_in``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(a=1, mode="fan_in", nonlinearity="leaky_relu", distribution="uniform",
                         **kwargs)


@INITIALIZERS.register_module(name="Pretrained")
class PretrainedInit:
    """Load weights from a checkpoint (see :func:`detbox.utils.checkpoint.load_checkpoint`).

    The file is found in (or downloaded into) the torch hub cache and read without running
    code from it (:mod:`detbox.utils.safe_load`); a file none of whose weights is the
    module's is an error (a checkpoint of another model, or a missing ``prefix``).

    Args:
        checkpoint: a path, ``torchvision://NAME``, ``open-mmlab://NAME`` or an URL.
        prefix: load only the keys starting with it, with it removed (``'backbone.'`` loads a
            detector's backbone into a backbone).
        map_location: where tensors are loaded; CPU when not given.
    """

    def __init__(self, checkpoint: str, prefix: str | None = None,
                 map_location: str | None = None) -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.map_location = map_location
        self.wholemodule = False

    def __call__(self, module: nn.Module) -> None:
        from detbox.utils.checkpoint import (
            load_checkpoint,
            load_checkpoint_with_prefix,
            load_state_dict,
        )
        map_location = self.map_location or "cpu"
        if self.prefix is None:
            logger.info("load model from: %s", self.checkpoint)
            load_checkpoint(module, self.checkpoint, map_location=map_location, strict=False,
                            logger=logger)
        else:
            logger.info("load %s in model from: %s", self.prefix, self.checkpoint)
            state_dict = load_checkpoint_with_prefix(self.prefix, self.checkpoint,
                                                     map_location=map_location)
            load_state_dict(module, state_dict, strict=False, logger=logger,
                            source=f"{self.checkpoint} [{self.prefix}*]")


def _build_initializer(cfg: dict, wholemodule: bool) -> Callable[[nn.Module], None]:
    func = INITIALIZERS.build(cfg)
    # With ``wholemodule`` (an ``override`` target) every submodule is initialised, not only
    # those whose class is in ``layer``.
    func.wholemodule = wholemodule
    return func


def _initialize_override(module: nn.Module, override: dict | list, cfg: dict) -> None:
    if not isinstance(override, (dict, list)):
        raise TypeError(f"override must be a dict or a list of dict, but got {type(override)}")
    for item in [override] if isinstance(override, dict) else override:
        item = copy.deepcopy(item)
        name = item.pop("name", None)
        if name is None:
            raise ValueError(f'`override` must contain the key "name", but got {item}')
        if not item:  # only a name: use the outer init_cfg's settings
            item.update(cfg)
        elif "type" not in item:
            raise ValueError(f'`override` need "type" key, but got {item}')
        if not hasattr(module, name):
            raise RuntimeError(f"{type(module).__name__} has no attribute '{name}' named in "
                               f"init_cfg override {item}")
        _build_initializer(item, wholemodule=True)(getattr(module, name))


def initialize(module: nn.Module, init_cfg: InitCfg) -> None:
    """Initialise ``module`` by ``init_cfg`` (a dict or a list of dicts, applied in order).

    Args:
        module: the module to initialise.
        init_cfg: ``dict(type='Kaiming' | 'Xavier' | 'Normal' | 'TruncNormal' | 'Uniform' |
            'Constant' | 'Caffe2Xavier' | 'Pretrained', layer=..., override=..., ...)``.
    """
    if not isinstance(init_cfg, (dict, list)):
        raise TypeError(f"init_cfg must be a dict or a list of dict, but got {type(init_cfg)}")
    for cfg in [init_cfg] if isinstance(init_cfg, dict) else init_cfg:
        # Copy: one init_cfg dict may be shared by many modules (e.g. every residual block).
        cfg = copy.deepcopy(cfg)
        override = cfg.pop("override", None)
        _build_initializer(cfg, wholemodule=False)(module)
        if override is not None:
            cfg.pop("layer", None)
            _initialize_override(module, override, cfg)
