"""Make the MMDetection 2.28.2 reference outputs for detbox's SSD.

Run with the side venv (real mmdet 2.28.2 + mmcv 1.7.2), never with detbox's own::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_ssd/make_reference.py

The steps of ``../mmdet_reference_yolox/make_reference.py`` (whose helpers this loads) for
SSD300: build with MMDetection, write ``keys_<name>.json``, load the calibrated weights, run
``inference_detector`` on the three images, record image 0's input / neck summaries, head
outputs of the three coarsest levels in full and its candidates before NMS, then one
training step on images 0 and 1 with ``TRAIN_GTS`` (per-image losses, gradient norms).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent / "mmdet_reference" / "images"
MODELS = {"ssd300": "configs/ssd300_ref.py"}
N_ROWS = 50
FULL_LEVELS = (3, 4, 5)
# Ground truths of the training batch, in the 300 x 300 input's pixels.
TRAIN_GTS = (
    ([[30.0, 40.0, 120.0, 150.0], [150.0, 60.0, 290.0, 200.0]], [0, 2]),
    ([[20.0, 30.0, 200.0, 180.0], [60.0, 200.0, 230.0, 290.0], [100.0, 100.0, 140.0, 140.0]],
     [1, 0, 2]),
)
GRAD_KEYS = ("backbone.features.0.weight", "backbone.features.31.weight",
             "neck.l2_norm.weight", "neck.extra_layers.0.1.conv.weight",
             "bbox_head.cls_convs.0.0.weight", "bbox_head.reg_convs.1.0.bias")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _train_step(model, images, npz, yolox):
    import torch
    from mmcv import Config
    from mmdet.core import build_assigner, build_sampler

    # init_detector drops train_cfg; give the head the config's
    cfg = Config.fromfile(model.cfg.filename)
    head = model.bbox_head
    head.train_cfg = cfg.model.train_cfg
    head.assigner = build_assigner(cfg.model.train_cfg.assigner)
    head.sampler = build_sampler(dict(type="PseudoSampler"))
    img, metas = yolox._batch(model, images[:2])
    gts = [torch.tensor(b, dtype=torch.float32) for b, _ in TRAIN_GTS]
    labels = [torch.tensor(lab, dtype=torch.long) for _, lab in TRAIN_GTS]
    model.train()
    model.zero_grad()
    losses = model.forward_train(img, metas, gts, labels)
    total = sum(sum(v) for v in losses.values())
    total.backward()
    out = {}
    for k, values in losses.items():
        npz[f"train/{k}"] = np.array([float(v) for v in values], dtype=np.float64)
        out[k] = [float(v) for v in values]
    params = dict(model.named_parameters())
    for k in GRAD_KEYS:
        npz[f"train/grad_norm/{k}"] = np.array(float(params[k].grad.norm()), dtype=np.float64)
    model.zero_grad()
    model.eval()
    npz["train/input/stats"] = np.array([float(img.double().sum()), float(img.double().std())])
    return out


def run_model(name, cfg_path, images, cw, base, yolox):
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
    thr = model.bbox_head.test_cfg["score_thr"]
    head = model.bbox_head
    orig = head.forward

    def forward(feats):
        out = orig(feats)
        scores = torch.cat([c[0].permute(1, 2, 0).reshape(-1, head.cls_out_channels)
                            .softmax(-1)[:, :-1].reshape(-1) for c in out[0]]).double()
        margins.append(float((scores - thr).abs().min()))
        if active[0]:
            for oname, levels in zip(("cls_score", "bbox_pred"), out):
                for level, t in enumerate(levels):
                    if level in FULL_LEVELS:
                        rec[f"head/{oname}/{level}"] = t.detach().numpy().astype(np.float32)
                    else:
                        base._summary(f"head/{oname}/{level}", t, rec)
        return out

    head.forward = forward

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
            summary_images.append(dict(
                file=f"../mmdet_reference/images/{path.name}", ori_shape=list(meta["ori_shape"]),
                img_shape=list(meta["img_shape"]), num_dets_per_class=counts,
                num_dets=int(sum(counts)), min_abs_margin_to_score_thr=margins[-1]))
    for k, v in rec.items():
        npz[f"inter/{k}"] = v
    img, metas = yolox._batch(model, images[:1])
    with torch.no_grad():
        outs = head(model.extract_feat(img))
        bboxes, scores, labels = head.get_bboxes(*outs, img_metas=metas, rescale=True,
                                                 with_nms=False)[0]
    order = torch.argsort(scores, descending=True, stable=True)
    npz["inter/cand/num"] = np.array(int(scores.numel()))
    npz["inter/cand/first"] = torch.cat([bboxes[order], scores[order, None],
                                         labels[order, None].to(bboxes)], 1)[:N_ROWS].numpy()
    train = _train_step(model, images, npz, yolox)
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
    cw = _load("calibrated_weights_ssd", HERE / "calibrated_weights.py")
    base = _load("make_reference_base", HERE.parent / "mmdet_reference" / "make_reference.py")
    yolox = _load("make_reference_yolox", HERE.parent / "mmdet_reference_yolox" /
                  "make_reference.py")
    images = sorted(IMAGES.glob("img*.png"))
    for name, rel in MODELS.items():
        summary = run_model(name, HERE / rel, images, cw, base, yolox)
        print(name, [im["num_dets"] for im in summary["images"]],
              [round(im["min_abs_margin_to_score_thr"], 7) for im in summary["images"]],
              summary["train"], file=sys.stderr)
        for check, rows in summary["stability"].items():
            print(f"  {check}: {rows}", file=sys.stderr)


if __name__ == "__main__":
    main()
