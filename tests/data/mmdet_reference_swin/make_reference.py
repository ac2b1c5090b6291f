"""Make the MMDetection 2.28.2 reference outputs for detbox's Swin parity.

Run with the side venv (real mmdet 2.28.2 + mmcv-full 1.7.2), never detbox's own::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_swin/make_reference.py

For each model of ``MODELS`` (``configs/*.py``) it builds the model with MMDetection, writes
``keys_<name>.json`` (state_dict keys, shapes, dtypes, seed), loads the calibrated weights of
``calibrated_weights.py`` (strict) and records in ``reference_<name>.npz`` / ``.json``:

* ``det/{i}/{c}``: ``inference_detector`` on ``../mmdet_reference/images/*.png`` (one at a
  time), ``meta/{i}/*``;
* ``inter/backbone/{l}``, ``inter/neck/{l}``: summaries of image 0's features;
* ``train/loss/<name>``: one training step's losses (``forward_train`` in train mode, the
  model built with the config's ``train_cfg``) on a fixed batch: images 0 and 2 through the test pipeline (no flip), zero-padded at the
  bottom/right to a common size, with the ground truth of ``TRAIN_GT``; ``train/grad/<key>``:
  summaries of a few gradients of the summed loss.

``--calibrate Q`` prints the classifier-bias shift that puts the ``Q`` quantile of all class
logits (3 images) at logit(0.05).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent / "mmdet_reference" / "images"
MODELS = {
    "retinanet": "configs/retinanet_swin-t_fpn_tiny.py",
    "atss": "configs/atss_swin-t_fpn_tiny.py",
}
# ground truth of the training batch, in the resized images' pixels: image -> (boxes, labels)
TRAIN_IMAGES = (0, 2)
TRAIN_GT = {
    0: ([[20.0, 30.0, 120.0, 150.0], [150.0, 40.0, 300.0, 200.0]], [0, 2]),
    2: ([[10.0, 10.0, 200.0, 180.0], [180.0, 100.0, 310.0, 230.0], [60.0, 150.0, 140.0, 235.0]],
        [1, 0, 2]),
}
GRAD_KEYS = (
    "backbone.patch_embed.projection.weight",
    "backbone.stages.0.blocks.1.attn.w_msa.relative_position_bias_table",
    "backbone.stages.2.downsample.reduction.weight",
    "neck.fpn_convs.0.conv.weight",
)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_inputs(model, paths):
    """Images through the test pipeline (``Tensor[3, H, W]``) and their metas."""
    from mmcv.parallel import collate
    from mmdet.datasets import replace_ImageToTensor
    from mmdet.datasets.pipelines import Compose

    cfg = model.cfg.copy()
    cfg.data.test.pipeline = replace_ImageToTensor(cfg.data.test.pipeline)
    pipeline = Compose(cfg.data.test.pipeline)
    imgs, metas = [], []
    for path in paths:
        data = collate([pipeline(dict(img_info=dict(filename=str(path)), img_prefix=None))],
                       samples_per_gpu=1)
        imgs.append(data["img"][0].data[0][0])
        metas.append(data["img_metas"][0].data[0][0])
    return imgs, metas


def train_batch(imgs):
    """Zero-pad ``Tensor[3, H_i, W_i]`` images to one ``Tensor[B, 3, H, W]``."""
    import torch

    h = max(t.shape[1] for t in imgs)
    w = max(t.shape[2] for t in imgs)
    batch = torch.zeros(len(imgs), 3, h, w)
    for i, t in enumerate(imgs):
        batch[i, :, :t.shape[1], :t.shape[2]] = t
    return batch


def run_model(name, cfg_path, images, cw, base):
    import torch
    from mmdet.apis import inference_detector, init_detector

    model = init_detector(str(cfg_path), None, device="cpu")
    sd = model.state_dict()
    keys = [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()]
    lines = ",\n".join("  " + json.dumps(k) for k in keys)
    (HERE / f"keys_{name}.json").write_text(
        f'{{"config": "{cfg_path.relative_to(HERE)}", "seed": {cw.DEFAULT_SEED}, "keys": [\n'
        f"{lines}\n]}}\n")
    weights = cw.generate_state_dict({k: s for k, s, _ in keys}, cw.DEFAULT_SEED,
                                     {k: d for k, _, d in keys}, cfg_path.stem)
    model.load_state_dict(weights, strict=True)
    model.eval()
    npz, summary_images = {}, []
    with torch.no_grad():
        for i, path in enumerate(images):
            result = inference_detector(model, str(path))
            meta = base._meta_of(model, path)
            for c, dets in enumerate(result):
                npz[f"det/{i}/{c}"] = dets.astype(np.float32)
            for key in ("ori_shape", "img_shape", "pad_shape"):
                npz[f"meta/{i}/{key}"] = np.array(meta[key], dtype=np.int64)
            scores = np.concatenate([d[:, 4] for d in result])
            summary_images.append(dict(
                file=f"../mmdet_reference/images/{path.name}",
                img_shape=list(meta["img_shape"]), pad_shape=list(meta["pad_shape"]),
                num_dets_per_class=[int(d.shape[0]) for d in result],
                num_dets=int(sum(d.shape[0] for d in result)),
                min_score=float(scores.min()) if scores.size else None,
                max_score=float(scores.max()) if scores.size else None))
        imgs, metas = test_inputs(model, images[:1])
        for m in metas:
            m["batch_input_shape"] = tuple(imgs[0].shape[-2:])
        feats = model.backbone(imgs[0][None])
        for level, t in enumerate(feats):
            base._summary(f"inter/backbone/{level}", t, npz)
        for level, t in enumerate(model.neck(feats)):
            base._summary(f"inter/neck/{level}", t, npz)

    # one training step on a fixed batch (init_detector drops train_cfg: build anew)
    from mmcv import Config
    from mmdet.models import build_detector

    imgs, metas = test_inputs(model, [images[i] for i in TRAIN_IMAGES])
    model = build_detector(Config.fromfile(str(cfg_path)).model)
    model.load_state_dict(weights, strict=True)
    batch = train_batch(imgs)
    gt_bboxes = [torch.tensor(TRAIN_GT[i][0]) for i in TRAIN_IMAGES]
    gt_labels = [torch.tensor(TRAIN_GT[i][1]) for i in TRAIN_IMAGES]
    model.train()
    model.zero_grad()
    losses = model.forward_train(batch, metas, gt_bboxes, gt_labels)
    total, loss_summary = 0, {}
    for key, value in losses.items():
        value = sum(value) if isinstance(value, (list, tuple)) else value
        npz[f"train/loss/{key}"] = np.array(float(value), dtype=np.float64)
        loss_summary[key] = float(value)
        if "loss" in key:
            total = total + value
    total.backward()
    params = dict(model.named_parameters())
    for key in GRAD_KEYS:
        base._summary(f"train/grad/{key}", params[key].grad, npz)
    base.save_npz(HERE / f"reference_{name}.npz", npz)
    summary = dict(config=str(cfg_path.relative_to(HERE)), seed=cw.DEFAULT_SEED,
                   images=summary_images, train=dict(images=list(TRAIN_IMAGES),
                                                     batch_shape=list(batch.shape),
                                                     losses=loss_summary),
                   versions=base._versions())
    (HERE / f"reference_{name}.json").write_text(base.dumps_json(summary))
    return summary


def calibrate(name, cfg_path, images, cw, quantile):
    import torch
    from mmdet.apis import inference_detector, init_detector

    model = init_detector(str(cfg_path), None, device="cpu")
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    dtypes = {k: str(v.dtype).replace("torch.", "") for k, v in model.state_dict().items()}
    weights = cw.generate_state_dict(shapes, cw.DEFAULT_SEED, dtypes, cfg_path.stem)
    key = next(k for k in shapes if k.endswith("_cls.bias"))
    weights[key] -= cw.SWIN_MODEL_SHIFTS[cfg_path.stem][0][1]  # the current shift
    model.load_state_dict(weights, strict=True)
    logits = []
    orig = model.bbox_head.forward

    def forward(*args, **kwargs):
        out = orig(*args, **kwargs)
        logits.extend(c.permute(0, 2, 3, 1).reshape(-1) for c in out[0])
        return out

    model.bbox_head.forward = forward
    with torch.no_grad():
        for path in images:
            inference_detector(model, str(path))
    values = torch.cat(logits).double()
    shift = float(np.log(0.05 / 0.95)) - float(torch.quantile(values, quantile))
    print(f"{name}: {key} shift {shift:.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--calibrate", type=float, metavar="QUANTILE")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    cw = _load("calibrated_weights_swin", HERE / "calibrated_weights.py")
    base = _load("make_reference_base", HERE.parent / "mmdet_reference" / "make_reference.py")
    images = sorted(IMAGES.glob("img*.png"))
    for name in args.models:
        if args.calibrate:
            calibrate(name, HERE / MODELS[name], images, cw, args.calibrate)
            continue
        summary = run_model(name, HERE / MODELS[name], images, cw, base)
        print(name, [im["num_dets"] for im in summary["images"]], summary["train"]["losses"],
              file=sys.stderr)


if __name__ == "__main__":
    main()
