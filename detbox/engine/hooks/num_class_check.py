"""Checking that the heads' ``num_classes`` matches the dataset (MMDetection v2's
``NumClassCheckHook``, in ``default_runtime.py``'s ``custom_hooks``)."""

from __future__ import annotations

from typing import Any

from ...registry import HOOKS
from ..parallel import unwrap_model
from .hook import Hook

__all__ = ["NumClassCheckHook"]

# Modules with a num_classes that is not the dataset's (matched by class name, so that the
# engine does not import the models).
_EXEMPT = {"RPNHead", "VGG", "FusedSemanticHead", "GARPNHead"}


@HOOKS.register_module()
class NumClassCheckHook(Hook):
    """Before each train and val epoch, compare every module's ``num_classes`` (except RPN
    heads, VGG and semantic heads) with ``len(dataset.CLASSES)``; a mismatch raises
    ``ValueError`` naming the module."""

    def _check_head(self, runner: Any) -> None:
        dataset = getattr(runner.data_loader, "dataset", None)
        classes = getattr(dataset, "CLASSES", None)
        if dataset is None:
            return
        dataset_name = type(dataset).__name__
        if classes is None:
            runner.logger.warning("Please set `CLASSES` in the %s and check if it is consistent "
                                  "with the `num_classes` of head", dataset_name)
            return
        if isinstance(classes, str):
            raise TypeError(f"`CLASSES` in {dataset_name} should be a tuple of str; add a comma "
                            f"for a single class: CLASSES = ({classes!r},)")
        model = unwrap_model(runner.model)
        for name, module in model.named_modules():
            if not hasattr(module, "num_classes"):
                continue
            if any(k.__name__ in _EXEMPT for k in type(module).__mro__):
                continue
            if module.num_classes != len(classes):
                raise ValueError(
                    f"The `num_classes` ({module.num_classes}) in {type(module).__name__} "
                    f"({name or 'the model'}) of {type(model).__name__} does not match the "
                    f"length of `CLASSES` ({len(classes)}) in {dataset_name}")

    def before_train_epoch(self, runner: Any) -> None:
        self._check_head(runner)

    def before_val_epoch(self, runner: Any) -> None:
        self._check_head(runner)
