"""Small pieces backbones share: the deprecated ``pretrained`` argument, frozen stages (and a
``train`` that keeps them frozen), and running a chain of stages that returns some of their
outputs."""

from __future__ import annotations

import warnings
from typing import Iterable, Sequence

from torch import Tensor, nn

from ..layers.norm import batch_norms_to_eval

__all__ = ["FrozenStagesMixin", "freeze", "pretrained_init_cfg", "run_stages"]

InitCfg = dict | list | None


def pretrained_init_cfg(pretrained: str | None, init_cfg: InitCfg,
                        default: InitCfg) -> InitCfg:
    """The ``init_cfg`` a backbone ends up with, MMDetection v2's rule for ``pretrained``.

    A path in ``pretrained`` (deprecated, warned) becomes ``Pretrained`` from it; without
    either, ``default``. Giving both, or a ``pretrained`` that is not a string, is an error.
    """
    if init_cfg and pretrained:
        raise AssertionError("init_cfg and pretrained cannot be specified at the same time")
    if isinstance(pretrained, str):
        warnings.warn('DeprecationWarning: pretrained is deprecated, please use "init_cfg" '
                      "instead", stacklevel=3)
        return dict(type="Pretrained", checkpoint=pretrained)
    if pretrained is not None:
        raise TypeError(f"pretrained must be a str or None, got {pretrained!r}")
    return default if init_cfg is None else init_cfg


def freeze(modules: Iterable[nn.Module]) -> None:
    """Put ``modules`` in eval mode and stop their parameters' gradients."""
    for module in modules:
        module.eval()
        for param in module.parameters():
            param.requires_grad = False


class FrozenStagesMixin:
    """``train`` for backbones with ``_freeze_stages`` (and an optional ``norm_eval``): after
    switching modes the frozen stages are put back in eval mode, and with ``norm_eval`` every
    batch norm too (put it before ``nn.Module`` among the bases)."""

    def train(self, mode: bool = True):  # type: ignore[no-untyped-def]
        """Train mode, keeping frozen stages (and all batch norms with ``norm_eval``) in eval."""
        super().train(mode)  # type: ignore[misc]
        self._freeze_stages()  # type: ignore[attr-defined]
        if mode and getattr(self, "norm_eval", False):
            batch_norms_to_eval(self)  # type: ignore[arg-type]
        return self


def run_stages(x: Tensor, stages: Sequence[nn.Module],
               out_indices: Sequence[int]) -> tuple[Tensor, ...]:
    """Run ``stages`` in order on ``x``; the outputs of the stages in ``out_indices``.

    Stages after the last wanted one are not run (their output would be unused).
    """
    outs = []
    last = max(out_indices) if len(out_indices) else -1
    for i, stage in enumerate(stages[:last + 1]):
        x = stage(x)
        if i in out_indices:
            outs.append(x)
    return tuple(outs)
