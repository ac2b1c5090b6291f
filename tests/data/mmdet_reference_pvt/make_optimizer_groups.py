"""Record MMDetection 2.28.2 / mmcv 1.7.2's optimizer param groups for the toys of
``optimizer_toys.py`` -> ``optimizer_groups.json``.

    /tmp/mmfull/bin/python tests/data/mmdet_reference_pvt/make_optimizer_groups.py

- ``layer_decay/<decay_type>``: ``LearningRateDecayOptimizerConstructor`` over a
  ``ToyDetector`` with mmcls 0.25's ConvNeXt (``CONVNEXT``, stage 0 frozen), AdamW;
- ``default/<name>``: mmcv's ``DefaultOptimizerConstructor`` over ``SwinLike`` with the
  ``paramwise_cfg`` of ``PARAMWISE`` (the Swin configs' ``custom_keys``, and mixed rules).

Each entry is the list of groups in order: ``{names, lr, weight_decay}`` (plus
``group_name`` and ``lr_scale`` for the layer-decay groups).
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    import mmcls.models  # noqa: F401
    from mmcls.models import ConvNeXt
    from mmdet.core import build_optimizer

    spec = importlib.util.spec_from_file_location("optimizer_toys", HERE / "optimizer_toys.py")
    toys = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(toys)
    logging.getLogger("mmdet").setLevel(logging.WARNING)
    out = {}
    model = toys.ToyDetector(ConvNeXt(**toys.CONVNEXT))
    for name, paramwise in toys.LAYER_DECAY.items():
        opt = build_optimizer(model, dict(toys.ADAMW, paramwise_cfg=paramwise,
                                          constructor="LearningRateDecayOptimizerConstructor"))
        groups = toys.named_groups(opt, model)
        for group, raw in zip(groups, opt.param_groups):
            group.update(group_name=raw["group_name"], lr_scale=raw["lr_scale"])
            assert group["names"] == raw["param_names"]
        out[f"layer_decay/{name}"] = groups
    swin = toys.SwinLike()
    for name, paramwise in toys.PARAMWISE.items():
        opt = build_optimizer(swin, dict(toys.ADAMW, paramwise_cfg=paramwise))
        out[f"default/{name}"] = toys.named_groups(opt, swin)
    (HERE / "optimizer_groups.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    for key, groups in out.items():
        print(key, len(groups), "groups")


if __name__ == "__main__":
    main()
