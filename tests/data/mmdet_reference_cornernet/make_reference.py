"""Make the MMDetection 2.28.2 reference outputs for detbox's CornerNet.

Run with the side venv (real mmdet 2.28.2 + mmcv-full 1.7.2), never with detbox's own::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_cornernet/make_reference.py

Builds ``configs/cornernet_tiny_ref.py`` with MMDetection, writes ``keys_cornernet.json``,
loads the calibrated weights (``calibrated_weights.py``) and records, on the three images of
``../mmdet_reference/images/``: the detections of the config's flip test (``aug_test``: image
and flipped image decoded, mapped back and merged by soft-NMS) as ``det/<i>/<c>``, the
detections without flip (``simple_test``) as ``det_single/<i>/<c>``, image 0's head outputs
(summaries) and its candidates before NMS; then one training step on images 0 and 2 (same
padded size) with the ground truths of ``TRAIN_GTS``: losses and gradient norms.
Writes ``reference_cornernet.npz`` and ``.json``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent / "mmdet_reference" / "images"
CONFIG = "configs/cornernet_tiny_ref.py"
N_ROWS = 50
TRAIN_IMAGES = (0, 2)
# Ground truths of the training batch, in the padded 383 x 255 input's pixels.
TRAIN_GTS = (
    ([[30.0, 40.0, 120.0, 150.0], [150.0, 60.0, 300.0, 200.0]], [0, 2]),
    ([[20.0, 30.0, 200.0, 180.0], [60.0, 100.0, 230.0, 250.0], [100.0, 100.0, 140.0, 140.0]],
     [1, 0, 2]),
)
GRAD_KEYS = ("backbone.stem.0.conv.weight", "backbone.hourglass_modules.1.low2.low2.0.conv1.weight",
             "bbox_head.tl_pool.0.direction1_conv.conv.weight",
             "bbox_head.br_heat.1.1.conv.bias", "bbox_head.tl_emb.1.1.conv.weight",
             "bbox_head.br_off.0.1.conv.weight")
HEAD_NAMES = ("tl_heat", "br_heat", "tl_emb", "br_emb", "tl_off", "br_off")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def set_flip(cfg, flip):
    """Set ``MultiScaleFlipAug.flip`` of the test pipeline."""
    cfg.data.test.pipeline[1]["flip"] = flip


def _batch(model, paths):
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


def _detections(model, images, prefix, npz):
    import torch
    from mmdet.apis import inference_detector

    counts = []
    with torch.no_grad():
        for i, path in enumerate(images):
            result = inference_detector(model, str(path))
            for c, dets in enumerate(result):
                npz[f"{prefix}/{i}/{c}"] = dets.astype(np.float32)
            counts.append([int(d.shape[0]) for d in result])
    return counts


def _train_step(model, images, npz):
    import torch

    img, metas = _batch(model, [images[i] for i in TRAIN_IMAGES])
    gts = [torch.tensor(b, dtype=torch.float32) for b, _ in TRAIN_GTS]
    labels = [torch.tensor(lab, dtype=torch.long) for _, lab in TRAIN_GTS]
    model.train()
    model.zero_grad()
    losses = model.forward_train(img, metas, [g.clone() for g in gts], labels)
    total = sum(sum(v) for v in losses.values())
    total.backward()
    out = {}
    for k, v in losses.items():
        for level, value in enumerate(v):
            npz[f"train/{k}/{level}"] = np.array(float(value), dtype=np.float64)
            out[f"{k}/{level}"] = float(value)
    params = dict(model.named_parameters())
    for k in GRAD_KEYS:
        npz[f"train/grad_norm/{k}"] = np.array(float(params[k].grad.norm()), dtype=np.float64)
    model.zero_grad()
    model.eval()
    npz["train/input/stats"] = np.array([float(img.double().sum()), float(img.double().std())])
    return out


def main():
    import torch
    from mmdet.apis import init_detector

    torch.set_num_threads(1)
    cw = _load("calibrated_weights_cornernet", HERE / "calibrated_weights.py")
    base = _load("make_reference_base", HERE.parent / "mmdet_reference" / "make_reference.py")
    images = sorted(IMAGES.glob("img*.png"))
    cfg_path = HERE / CONFIG
    model = init_detector(str(cfg_path), None, device="cpu")
    keys = [[k, list(v.shape), str(v.dtype).replace("torch.", "")]
            for k, v in model.state_dict().items()]
    lines = ",\n".join("  " + json.dumps(k) for k in keys)
    (HERE / "keys_cornernet.json").write_text(
        f'{{"config": "{CONFIG}", "seed": {cw.DEFAULT_SEED}, "keys": [\n{lines}\n]}}\n')
    weights = cw.generate_state_dict({k: s for k, s, _ in keys}, cw.DEFAULT_SEED,
                                     {k: d for k, _, d in keys}, cfg_path.stem)
    model.load_state_dict(weights, strict=True)
    model.eval()
    npz = {}
    flip_counts = _detections(model, images, "det", npz)
    set_flip(model.cfg, False)
    single_counts = _detections(model, images, "det_single", npz)
    img, metas = _batch(model, images[:1])
    npz["inter/input/stats"] = np.array([float(img.double().sum()), float(img.double().std())])
    with torch.no_grad():
        outs = model.bbox_head(model.extract_feat(img))
        for name, levels in zip(HEAD_NAMES, outs):
            for level, t in enumerate(levels):
                base._summary(f"inter/head/{name}/{level}", t, npz)
        dets, labels = model.bbox_head.get_bboxes(*outs, img_metas=metas, rescale=True,
                                                  with_nms=False)[0]
    order = torch.argsort(dets[:, 4], descending=True, stable=True)
    npz["inter/cand/num"] = np.array(int(dets.shape[0]))
    npz["inter/cand/first"] = torch.cat([dets[order], labels[order, None]], 1)[:N_ROWS].numpy()
    set_flip(model.cfg, True)
    train = _train_step(model, images, npz)
    base.save_npz(HERE / "reference_cornernet.npz", npz)
    summary = dict(config=CONFIG, seed=cw.DEFAULT_SEED, num_dets_flip=flip_counts,
                   num_dets_single=single_counts, num_candidates_img0=int(dets.shape[0]),
                   train=train, versions=base._versions())
    (HERE / "reference_cornernet.json").write_text(base.dumps_json(summary))
    print(json.dumps(summary, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
