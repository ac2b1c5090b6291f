"""Record real MMDetection 2.28.2's Ascend heads next to the plain ones (same weights, batch).

Run with the side venv (real mmdet 2.28.2 + mmcv-full 1.7.2), never with detbox's own::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_ascend/make_reference.py

For the SSD300 reference model (``../mmdet_reference_ssd/``: config, calibrated weights,
training batch of images 0 and 1 with its ``TRAIN_GTS``) and the tiny RetinaNet of
``../mmdet_reference_one_stage/`` (its calibrated weights; images 0 and 1 with
``RETINA_GTS``), one training step's per-image / per-level losses and a few gradient norms,
once with MMDetection's plain head and ``MaxIoUAssigner`` and once with ``AscendSSDHead`` /
``AscendRetinaHead`` and ``AscendMaxIoUAssigner`` (only the ``type`` names changed). The
RetinaNet is run a second time with a ground truth outside the image (``OUTSIDE_GT``, IoU 0
with every anchor), the one case where the two assigners differ. Writes
``reference_ascend.json``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
IMAGES = sorted((DATA / "mmdet_reference" / "images").glob("img*.png"))
SSD_CONFIG = DATA / "mmdet_reference_ssd" / "configs" / "ssd300_ref.py"
RETINA_CONFIG = DATA / "mmdet_reference_one_stage" / "configs" / "retinanet_r18_fpn_tiny.py"
ASCEND_TYPES = {"SSDHead": "AscendSSDHead", "RetinaHead": "AscendRetinaHead"}
# Ground truths of the RetinaNet batch (images 0 and 1 at the test pipeline's scale).
RETINA_GTS = (
    ([[30.0, 40.0, 120.0, 150.0], [150.0, 60.0, 290.0, 200.0]], [0, 2]),
    ([[20.0, 30.0, 200.0, 180.0], [60.0, 100.0, 230.0, 200.0], [100.0, 100.0, 140.0, 140.0]],
     [1, 0, 2]),
)
OUTSIDE_GT = ([-500.0, -500.0, -480.0, -480.0], 1)  # appended to image 1's ground truths
GRAD_KEYS = {
    "ssd300": ("bbox_head.cls_convs.0.0.weight", "bbox_head.reg_convs.1.0.bias",
               "neck.l2_norm.weight"),
    "retinanet": ("bbox_head.retina_cls.weight", "bbox_head.retina_reg.bias",
                  "neck.fpn_convs.0.conv.weight"),
}


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ascend_config(cfg):
    """The same config with the Ascend head and assigner types."""
    cfg = cfg.copy()
    cfg.model.bbox_head.type = ASCEND_TYPES[cfg.model.bbox_head.type]
    cfg.model.train_cfg.assigner.type = "AscendMaxIoUAssigner"
    return cfg


def _step(cfg, keys_json, cw, gts, grad_keys, yolox):
    import torch
    from mmdet.models import build_detector

    model = build_detector(cfg.model)
    model.cfg = cfg
    model.load_state_dict(cw.state_dict_from_keys_json(keys_json), strict=True)
    img, metas = yolox._batch(model, IMAGES[:2])
    boxes = [torch.tensor(b, dtype=torch.float32) for b, _ in gts]
    labels = [torch.tensor(lab, dtype=torch.long) for _, lab in gts]
    model.train()
    losses = model.forward_train(img, metas, boxes, labels)
    sum(sum(v) for v in losses.values()).backward()
    params = dict(model.named_parameters())
    return dict(head=type(model.bbox_head).__name__,
                assigner=type(model.bbox_head.assigner).__name__,
                losses={k: [float(v) for v in vs] for k, vs in losses.items()},
                grad_norms={k: float(params[k].grad.norm()) for k in grad_keys})


def main():
    import torch
    from mmcv import Config

    torch.set_num_threads(1)
    yolox = _load("make_reference_yolox", DATA / "mmdet_reference_yolox" / "make_reference.py")
    ssd_make = _load("make_reference_ssd", DATA / "mmdet_reference_ssd" / "make_reference.py")
    ssd_cw = _load("calibrated_weights_ssd", DATA / "mmdet_reference_ssd" / "calibrated_weights.py")
    one_cw = _load("calibrated_weights_one_stage",
                   DATA / "mmdet_reference_one_stage" / "calibrated_weights.py")
    base = _load("make_reference_base", DATA / "mmdet_reference" / "make_reference.py")
    ssd_keys = DATA / "mmdet_reference_ssd" / "keys_ssd300.json"
    retina_keys = DATA / "mmdet_reference_one_stage" / "keys_retinanet.json"
    outside = (RETINA_GTS[0], (RETINA_GTS[1][0] + [OUTSIDE_GT[0]],
                               RETINA_GTS[1][1] + [OUTSIDE_GT[1]]))
    out = {}
    for name, cfg_path, keys, cw, gts in (
            ("ssd300", SSD_CONFIG, ssd_keys, ssd_cw, ssd_make.TRAIN_GTS),
            ("retinanet", RETINA_CONFIG, retina_keys, one_cw, RETINA_GTS),
            ("retinanet_outside_gt", RETINA_CONFIG, retina_keys, one_cw, outside)):
        cfg = Config.fromfile(str(cfg_path))
        grad_keys = GRAD_KEYS[name.split("_")[0]]
        out[name] = dict(plain=_step(cfg, keys, cw, gts, grad_keys, yolox),
                         ascend=_step(ascend_config(cfg), keys, cw, gts, grad_keys, yolox))
        print(name, json.dumps(out[name], indent=1), file=sys.stderr)
    out["versions"] = base._versions()
    (HERE / "reference_ascend.json").write_text(base.dumps_json(out))


if __name__ == "__main__":
    main()
