"""Make the MMDetection 2.28.2 reference outputs for detbox's CenterNet.

Run with the side venv (real mmdet 2.28.2 + mmcv-full 1.7.2, compiled CPU ops), never with
detbox's own::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_centernet/make_reference.py

For each model of ``MODELS``: build it with MMDetection, write ``keys_<name>.json``, load the
calibrated weights (``calibrated_weights.py``), run ``inference_detector`` on the three images
of ``../mmdet_reference/images/``, record image 0's input / neck / head tensors, then one
training step on a fixed batch (images 0 and 1 through the test pipeline, the ground
truths of ``TRAIN_GTS``): the losses in train mode and gradient norms. Writes
``reference_<name>.npz`` and ``.json``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent / "mmdet_reference" / "images"
MODELS = {"centernet": "configs/centernet_r18_tiny_ref.py"}
N_ROWS = 50
# Ground truths of the training batch, in the padded input's pixels; CenterNetHead scales them
# by the feature map over image 0's ``pad_shape`` (224 x 320), so they stay inside that.
TRAIN_GTS = (
    ([[30.0, 40.0, 120.0, 150.0], [150.0, 60.0, 290.0, 190.0]], [0, 2]),
    ([[20.0, 30.0, 200.0, 180.0], [60.0, 150.0, 230.0, 215.0], [100.0, 100.0, 140.0, 140.0]],
     [1, 0, 2]),
)
# Parameters whose gradient norms are recorded after the training step's backward.
GRAD_KEYS = ("backbone.conv1.weight", "backbone.layer4.1.conv2.weight",
             "neck.deconv_layers.1.conv.weight", "neck.deconv_layers.4.conv.weight",
             "bbox_head.heatmap_head.2.weight", "bbox_head.wh_head.2.bias",
             "bbox_head.offset_head.0.weight")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _batch(model, paths):
    """Images through the test pipeline, collated (``img [B, 3, H, W]``, metas)."""
    from mmcv.parallel import collate
    from mmdet.datasets import replace_ImageToTensor
    from mmdet.datasets.pipelines import Compose

    cfg = model.cfg.copy()
    cfg.data.test.pipeline = replace_ImageToTensor(cfg.data.test.pipeline)
    pipeline = Compose(cfg.data.test.pipeline)
    data = collate([pipeline(dict(img_info=dict(filename=str(p)), img_prefix=None))
                    for p in paths], samples_per_gpu=len(paths))
    img = data["img"][0].data[0]
    metas = data["img_metas"][0].data[0]
    for m in metas:
        m["batch_input_shape"] = tuple(img.shape[-2:])
    return img, metas


def _train_step(model, images, npz):
    """Losses and gradient norms of one training step (train mode)."""
    import torch

    img, metas = _batch(model, images[:2])
    gts = [torch.tensor(b, dtype=torch.float32) for b, _ in TRAIN_GTS]
    labels = [torch.tensor(lab, dtype=torch.long) for _, lab in TRAIN_GTS]
    model.train()
    model.zero_grad()
    losses = model.forward_train(img, metas, [g.clone() for g in gts], labels)
    total = sum(losses.values())
    total.backward()
    out = {}
    for k, v in losses.items():
        npz[f"train/{k}"] = np.array(float(v), dtype=np.float64)
        out[k] = float(v)
    params = dict(model.named_parameters())
    for k in GRAD_KEYS:
        npz[f"train/grad_norm/{k}"] = np.array(float(params[k].grad.norm()), dtype=np.float64)
    model.zero_grad()
    model.eval()
    npz["train/input/stats"] = np.array([float(img.double().sum()), float(img.double().std())])
    return out


def _head_hook(model, rec, active, margins):
    """Wrap ``bbox_head.forward``: image 0's outputs in full, and per image the smallest gap
    between the 100th and 101st local-maximum scores (how firm the top-k cut is)."""
    import torch

    from mmdet.models.utils.gaussian_target import get_local_maximum

    head = model.bbox_head
    orig = head.forward

    def forward(feats):
        out = orig(feats)
        heat = get_local_maximum(out[0][0][:1], kernel=3).reshape(-1).double()
        top = torch.topk(heat, head.test_cfg["topk"] + 1).values
        margins.append(float(top[-2] - top[-1]))
        if active[0]:
            for name, levels in zip(("heatmap", "wh", "offset"), out):
                rec[f"head/{name}/0"] = levels[0].detach().numpy().astype(np.float32)
        return out

    head.forward = forward


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
    rec, active, margins = {}, [False], []
    _head_hook(model, rec, active, margins)

    def on_input(module, args):
        if active[0]:
            base._summary("input", args[0], rec)

    def on_neck(module, args, outs):
        if active[0]:
            for i, t in enumerate(outs):
                base._summary(f"neck/{i}", t, rec)

    model.backbone.register_forward_pre_hook(on_input)
    model.neck.register_forward_hook(on_neck)
    npz, summary_images = {}, []
    with torch.no_grad():
        for i, path in enumerate(images):
            active[0] = i == 0
            result = inference_detector(model, str(path))
            active[0] = False
            meta = base._meta_of(model, path)
            counts = []
            for c, dets in enumerate(result):
                npz[f"det/{i}/{c}"] = dets.astype(np.float32)
                counts.append(int(dets.shape[0]))
            for key in ("ori_shape", "img_shape", "pad_shape"):
                npz[f"meta/{i}/{key}"] = np.array(meta[key], dtype=np.int64)
            npz[f"meta/{i}/scale_factor"] = np.asarray(meta["scale_factor"], dtype=np.float32)
            scores = np.concatenate([d[:, 4] for d in result])
            summary_images.append(dict(
                file=f"../mmdet_reference/images/{path.name}", ori_shape=list(meta["ori_shape"]),
                img_shape=list(meta["img_shape"]), pad_shape=list(meta["pad_shape"]),
                num_dets_per_class=counts, num_dets=int(sum(counts)),
                min_score=float(scores.min()) if scores.size else None,
                max_score=float(scores.max()) if scores.size else None,
                topk_gap=margins[-1]))
    for k, v in rec.items():
        npz[f"inter/{k}"] = v
    _, metas0 = _batch(model, images[:1])
    npz["meta/0/border"] = np.asarray(metas0[0]["border"], dtype=np.float32)
    train = _train_step(model, images, npz)
    base.save_npz(HERE / f"reference_{name}.npz", npz)
    stability = {}
    for eps in (1e-7, 1e-6):
        rng = np.random.RandomState(123)
        noisy = {k: (v * (1 + eps * torch.from_numpy(rng.standard_normal(tuple(v.shape)))
                          .to(v.dtype)) if v.is_floating_point() else v)
                 for k, v in weights.items()}
        model.load_state_dict(noisy, strict=True)
        stability[f"weights_rel_{eps:g}"] = base._rerun(model, images, npz)
    model.load_state_dict(weights, strict=True)
    summary = dict(config=str(cfg_path.relative_to(HERE)), seed=cw.DEFAULT_SEED,
                   images=summary_images, train=train, stability=stability,
                   versions=base._versions())
    (HERE / f"reference_{name}.json").write_text(base.dumps_json(summary))
    return summary


def main():
    import torch

    torch.set_num_threads(1)
    cw = _load("calibrated_weights_centernet", HERE / "calibrated_weights.py")
    base = _load("make_reference_base", HERE.parent / "mmdet_reference" / "make_reference.py")
    images = sorted(IMAGES.glob("img*.png"))
    for name, rel in MODELS.items():
        summary = run_model(name, HERE / rel, images, cw, base)
        print(name, [im["num_dets"] for im in summary["images"]],
              [im["topk_gap"] for im in summary["images"]],
              summary["train"], file=sys.stderr)
        for check, rows in summary["stability"].items():
            print(f"  {check}: {rows}", file=sys.stderr)


if __name__ == "__main__":
    main()
