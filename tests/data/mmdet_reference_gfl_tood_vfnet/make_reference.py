"""Make the MMDetection 2.28.2 reference outputs for detbox's GFL, TOOD and VFNet.

Run with the side venv (real mmcv-full 1.7.x with compiled CPU ops, mmdet 2.28.2), never with
detbox's own venv::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_gfl_tood_vfnet/make_reference.py

Detections exactly as ``../mmdet_reference_one_stage/make_reference.py`` makes them (its
``run_model`` is reused, writing here): ``keys_<name>.json``, ``reference_<name>.npz`` and
``reference_<name>.json``, with one more stability check (mmcv's deformable convolution swapped
for ``torchvision.ops.deform_conv2d``). Then one training step's losses (``train_step`` in the
JSON): the model built with its ``train_cfg``, the same calibrated weights, in train mode, on
the batch of :func:`train_batch` (images 0 and 2 through the test pipeline, padded to one
size, with the fixed ground truths ``GT``); TOOD at epoch 0 (ATSS assignment) and at
``initial_epoch`` (task-aligned assignment).

``--calibrate`` prints, per model, the 0.99 quantile of the scores over the 3 images (to tune
the classifier shifts in ``calibrated_weights.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ONE_STAGE = HERE.parent / "mmdet_reference_one_stage"
MODELS = {
    "gfl": "configs/gfl_r18_fpn_tiny.py",
    "tood": "configs/tood_r18_fpn_tiny.py",
    "tood_ab_dcn": "configs/tood_r18_fpn_anchor_based_dcn_tiny.py",
    "vfnet": "configs/vfnet_r18_fpn_tiny.py",
}
TRAIN_IMAGES = (0, 2)
# Ground truths of the training batch, in the resized images' pixels (non-symmetric values,
# so that no two anchors are at the same distance from a box center).
GT = (
    dict(bboxes=[[31.3, 42.7, 151.9, 163.1], [170.2, 58.6, 301.7, 198.4]], labels=[0, 2]),
    dict(bboxes=[[60.4, 30.9, 205.8, 221.3], [12.1, 120.6, 80.7, 190.2]], labels=[1, 0]),
)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def train_batch(samples):
    """``(img: Tensor[2, 3, H, W], metas)`` from two test-pipeline samples
    (``[(img Tensor[3, h, w], meta), ...]``): zero padding at the bottom/right to the larger."""
    import torch

    height = max(int(img.shape[1]) for img, _ in samples)
    width = max(int(img.shape[2]) for img, _ in samples)
    batch = torch.zeros(len(samples), 3, height, width)
    for i, (img, _) in enumerate(samples):
        batch[i, :, :img.shape[1], :img.shape[2]] = img
    return batch, [dict(meta) for _, meta in samples]


def gt_tensors():
    import torch

    return ([torch.tensor(g["bboxes"], dtype=torch.float32) for g in GT],
            [torch.tensor(g["labels"], dtype=torch.long) for g in GT])


def loss_values(losses):
    """``{name: [per-level float, ...] or float}`` of a loss dict."""
    out = {}
    for key, value in losses.items():
        if isinstance(value, (list, tuple)):
            out[key] = [float(v.detach()) for v in value]
        else:
            out[key] = float(value.detach())
    return out


def _samples(cfg, images):
    from mmdet.datasets import replace_ImageToTensor
    from mmdet.datasets.pipelines import Compose

    pipeline = Compose(replace_ImageToTensor(cfg.data.test.copy().pipeline))
    out = []
    for i in TRAIN_IMAGES:
        data = pipeline(dict(img_info=dict(filename=str(images[i])), img_prefix=None))
        out.append((data["img"][0].data, data["img_metas"][0].data))  # DataContainers
    return out


def run_losses(name, cfg_path, images, cw):
    from mmcv import Config
    from mmdet.models import build_detector

    cfg = Config.fromfile(str(cfg_path))
    model = build_detector(cfg.model)
    keys = json.loads((HERE / f"keys_{name}.json").read_text())["keys"]
    weights = cw.generate_state_dict({k: s for k, s, _ in keys}, cw.DEFAULT_SEED,
                                     {k: d for k, _, d in keys}, cfg_path.stem)
    model.load_state_dict(weights, strict=True)
    model.train()
    img, metas = train_batch(_samples(cfg, images))
    gt_bboxes, gt_labels = gt_tensors()
    epochs = [0]
    if cfg.model.type == "TOOD":
        epochs.append(cfg.model.train_cfg.initial_epoch)
    steps = []
    for epoch in epochs:
        if cfg.model.type == "TOOD":
            model.set_epoch(epoch)
        losses = model.forward_train(img.clone(), [dict(m) for m in metas],
                                     [b.clone() for b in gt_bboxes],
                                     [lab.clone() for lab in gt_labels])
        loss, _ = model._parse_losses(losses)
        steps.append(dict(epoch=epoch, losses=loss_values(losses), total=float(loss)))
    return dict(images=[f"../mmdet_reference/images/{images[i].name}" for i in TRAIN_IMAGES],
                input_shape=list(img.shape), input_sum=float(img.double().sum()),
                metas=[dict(img_shape=list(m["img_shape"]), pad_shape=list(m["pad_shape"]))
                       for m in metas],
                gt=list(GT), steps=steps)


def deform_conv_stability(name, cfg_path, images, cw, one_stage, base):
    """Detections with mmcv's deformable convolution replaced by torchvision's."""
    import torch
    import torchvision
    from mmdet.apis import init_detector

    model = init_detector(str(cfg_path), None, device="cpu")
    keys = json.loads((HERE / f"keys_{name}.json").read_text())["keys"]
    model.load_state_dict(cw.generate_state_dict({k: s for k, s, _ in keys}, cw.DEFAULT_SEED,
                                                 {k: d for k, _, d in keys}, cfg_path.stem))
    model.eval()
    npz = dict(np.load(HERE / f"reference_{name}.npz"))

    def tv_dcn(x, offset, weight, stride=1, padding=0, dilation=1, groups=1, deform_groups=1,
               bias=False, im2col_step=32):
        return torchvision.ops.deform_conv2d(x.type_as(offset), offset, weight, stride=stride,
                                             padding=padding, dilation=dilation)

    patched = [(sys.modules["mmcv.ops.deform_conv"], "deform_conv2d")]
    tood = sys.modules.get("mmdet.models.dense_heads.tood_head")
    if tood is not None:
        patched.append((tood, "deform_conv2d"))
    saved = [(mod, attr, getattr(mod, attr)) for mod, attr in patched]
    try:
        for mod, attr in patched:
            setattr(mod, attr, tv_dcn)
        with torch.no_grad():
            return base._rerun(model, images, npz)
    finally:
        for mod, attr, value in saved:
            setattr(mod, attr, value)


def calibrate(name, cfg_path, images, cw, one_stage):
    import torch
    from mmdet.apis import inference_detector, init_detector

    model = init_detector(str(cfg_path), None, device="cpu")
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    model.load_state_dict(cw.generate_state_dict(shapes, cw.DEFAULT_SEED, None, cfg_path.stem))
    scores = []
    probabilities = model.cfg.model.type == "TOOD"
    one_stage._on_head_forward(model.bbox_head, lambda m, a, out: scores.extend(
        (c if probabilities else c.sigmoid()).permute(0, 2, 3, 1).reshape(-1) for c in out[0]))
    counts = []
    with torch.no_grad():
        for path in images:
            counts.append(sum(len(d) for d in inference_detector(model, str(path))))
    values = torch.cat(scores).double()
    print(f"{name}: score quantiles 0.99 {torch.quantile(values, 0.99):.4f}, 0.999 "
          f"{torch.quantile(values, 0.999):.4f}; detections per image {counts}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    one_stage = _load("make_reference_one_stage", ONE_STAGE / "make_reference.py")
    one_stage.HERE = HERE  # its run_model writes keys_/reference_ files here
    cw = _load("calibrated_weights_gfl_tood_vfnet", HERE / "calibrated_weights.py")
    base = one_stage._base()
    images = sorted(one_stage.IMAGES.glob("img*.png"))
    for name in args.models:
        cfg_path = HERE / MODELS[name]
        if args.calibrate:
            calibrate(name, cfg_path, images, cw, one_stage)
            continue
        summary = one_stage.run_model(name, cfg_path, images, cw, base)
        summary["stability"]["torchvision_deform_conv2d"] = deform_conv_stability(
            name, cfg_path, images, cw, one_stage, base)
        summary["train_step"] = run_losses(name, cfg_path, images, cw)
        (HERE / f"reference_{name}.json").write_text(base.dumps_json(summary))
        counts = [im["num_dets"] for im in summary["images"]]
        print(f"{name}: detections per image {counts}; cut "
              f"{[sum(im['cut']['num_dets_per_class']) for im in summary['images']]}",
              file=sys.stderr)
        for check, rows in summary["stability"].items():
            print(f"  {check}: {rows}", file=sys.stderr)
        for step in summary["train_step"]["steps"]:
            print(f"  epoch {step['epoch']}: total {step['total']:.6f} "
                  f"{ {k: (sum(v) if isinstance(v, list) else v) for k, v in step['losses'].items()} }",
                  file=sys.stderr)


if __name__ == "__main__":
    main()
