"""One call that checks a whole merged config before anything is built."""

from __future__ import annotations

from typing import Any

from ..config.validate import ConfigValidationError, validate_config
from ..registry import ConfigArgumentError, check_components


def check_config(cfg: Any) -> None:
    """Check sections, top-level keys and every component's arguments.

    Components (``dict(type=...)`` anywhere under ``model``, ``data``, ``custom_hooks``,
    ``log_config``...) are checked against the classes registered so far, so import the
    package parts that register them (``import detbox.models``) before calling this.

    Raises:
        ConfigValidationError: with every problem listed, each naming its key path and fix.
    """
    validate_config(cfg)
    problems = []
    for key in cfg:
        if key in ("optimizer",):  # optimizer args are checked by validate_config
            continue
        try:
            check_components(_without_builder_keys(cfg[key], str(key)), str(key))
        except ConfigArgumentError as err:
            problems.append(str(err))
    if problems:
        where = f" in {cfg.filename}" if getattr(cfg, "filename", None) else ""
        raise ConfigValidationError(f"config problems{where}:\n  - " + "\n  - ".join(problems))


def _without_builder_keys(node: Any, path: str) -> Any:
    """A copy without keys that builders consume before constructing a component.

    - ``separate_eval`` beside a list ``ann_file``: ``build_dataset`` turns such a dataset into
      a ``ConcatDataset`` and passes ``separate_eval`` to it, not to the dataset class;
    - ``priority`` of a hook in ``custom_hooks`` or ``log_config.hooks``: the runner takes it;
    - ``skip_invalid_images`` of ``data.train``/``val``/``test``: the data check takes it
      (:mod:`detbox.datasets.data_check`);
    - ``bg_cls_weight`` of a head's ``loss_cls``: ``DETRHead`` turns it into the background's
      class weight before building the loss.
    """
    if isinstance(node, dict):
        out = {k: _without_builder_keys(v, f"{path}.{k}") for k, v in node.items()}
        if path in ("data.train", "data.val", "data.test"):
            out.pop("skip_invalid_images", None)
        if isinstance(out.get("ann_file"), (list, tuple)):
            out.pop("separate_eval", None)
        if path.startswith(("custom_hooks.", "log_config.hooks.")) and path.count(".") == (
                1 if path.startswith("custom_hooks.") else 2):
            out.pop("priority", None)
        if path.endswith(".loss_cls"):
            out.pop("bg_cls_weight", None)
        return out
    if isinstance(node, (list, tuple)):
        return type(node)(_without_builder_keys(v, f"{path}.{i}") for i, v in enumerate(node))
    return node
