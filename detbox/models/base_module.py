"""``BaseModule``: an ``nn.Module`` initialised by its ``init_cfg`` (mmcv 1.x semantics).

``init_weights()`` applies the module's own ``init_cfg`` (see :mod:`detbox.models.weight_init`),
then calls ``init_weights()`` of each direct child that has one, so a child's own rules
(its ``init_cfg``, or a hand-written ``init_weights`` such as ``ConvModule``'s) win over its
parent's. A module whose ``init_cfg`` is a single ``Pretrained`` dict stops after loading, so
the loaded weights are not overwritten by its children. Plain ``nn.Sequential`` /
``nn.ModuleList`` have no ``init_weights`` and are skipped with their contents; use
:class:`Sequential` / :class:`ModuleList` below to recurse through them.

>>> class Net(BaseModule):
...     def __init__(self):
...         super().__init__(init_cfg=dict(type='Constant', val=2, layer='Conv2d'))
...         self.conv = nn.Conv2d(1, 1, 1)
>>> net = Net()
>>> net.init_weights()
>>> net.conv.weight.item(), net.conv.bias.item(), net.is_init
(2.0, 0.0, True)
"""

from __future__ import annotations

import copy
import logging
import warnings
from typing import Iterable

from torch import nn

from .weight_init import initialize

__all__ = ["BaseModule", "Sequential", "ModuleList", "ModuleDict"]

logger = logging.getLogger(__name__)


class BaseModule(nn.Module):
    """A module with an ``init_cfg`` applied by :meth:`init_weights`.

    Args:
        init_cfg: a dict or list of dicts such as ``dict(type='Kaiming', layer='Conv2d')`` or
            ``dict(type='Pretrained', checkpoint='torchvision://resnet50')``; ``None`` leaves
            the weights to the children and to PyTorch's defaults.
    """

    def __init__(self, init_cfg: dict | list[dict] | None = None) -> None:
        super().__init__()
        self._is_init = False
        self.init_cfg = copy.deepcopy(init_cfg)

    @property
    def is_init(self) -> bool:
        """Whether :meth:`init_weights` has run."""
        return self._is_init

    def init_weights(self) -> None:
        """Apply ``init_cfg``, then the children's ``init_weights`` (see the module docstring)."""
        name = type(self).__name__
        if self._is_init:
            warnings.warn(f"init_weights of {name} has been called more than once.",
                          stacklevel=2)
            return
        if self.init_cfg:
            logger.debug("initialize %s with init_cfg %s", name, self.init_cfg)
            initialize(self, self.init_cfg)
            if isinstance(self.init_cfg, dict) and self.init_cfg.get("type") == "Pretrained":
                self._is_init = True
                return
        for child in self.children():
            if hasattr(child, "init_weights"):
                child.init_weights()
        self._is_init = True

    def __repr__(self) -> str:
        text = super().__repr__()
        if self.init_cfg:
            text += f"\ninit_cfg={self.init_cfg}"
        return text


class Sequential(BaseModule, nn.Sequential):
    """``nn.Sequential`` with ``init_cfg`` whose ``init_weights`` reaches its members."""

    def __init__(self, *args: nn.Module, init_cfg: dict | list[dict] | None = None) -> None:
        BaseModule.__init__(self, init_cfg)
        for idx, module in enumerate(args):
            self.add_module(str(idx), module)


class ModuleList(BaseModule, nn.ModuleList):
    """``nn.ModuleList`` with ``init_cfg`` whose ``init_weights`` reaches its members."""

    def __init__(self, modules: Iterable[nn.Module] | None = None,
                 init_cfg: dict | list[dict] | None = None) -> None:
        BaseModule.__init__(self, init_cfg)
        if modules is not None:
            self.extend(modules)


class ModuleDict(BaseModule, nn.ModuleDict):
    """``nn.ModuleDict`` with ``init_cfg`` whose ``init_weights`` reaches its members."""

    def __init__(self, modules: dict[str, nn.Module] | None = None,
                 init_cfg: dict | list[dict] | None = None) -> None:
        BaseModule.__init__(self, init_cfg)
        if modules is not None:
            self.update(modules)
