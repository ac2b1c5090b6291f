"""Make the MMDetection 2.28.2 reference outputs for detbox's CentripetalNet.

Run with the side venv (real mmdet 2.28.2 + mmcv-full 1.7.2), never with detbox's own::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_centripetalnet/make_reference.py

The steps of ``../mmdet_reference_cornernet/make_reference.py`` (whose batching, detection
and flip helpers this loads) for ``configs/centripetalnet_tiny_ref.py``: write
``keys_centripetalnet.json``, load the calibrated weights (``calibrated_weights.py``), record
on the three images of ``../mmdet_reference/images/`` the detections with the flip test
(``det/<i>/<c>``) and without (``det_single/<i>/<c>``), image 0's head outputs (summaries)
and its candidates before NMS, then one training step on images 0 and 2 with ``TRAIN_GTS``:
losses per level and gradient norms. Writes ``reference_centripetalnet.npz`` and ``.json``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent / "mmdet_reference" / "images"
CONFIG = "configs/centripetalnet_tiny_ref.py"
N_ROWS = 50
TRAIN_IMAGES = (0, 2)
# Ground truths of the training batch, in the padded 383 x 255 input's pixels.
TRAIN_GTS = (
    ([[30.0, 40.0, 120.0, 150.0], [150.0, 60.0, 300.0, 200.0]], [0, 2]),
    ([[20.0, 30.0, 200.0, 180.0], [60.0, 100.0, 230.0, 250.0], [100.0, 100.0, 140.0, 140.0]],
     [1, 0, 2]),
)
GRAD_KEYS = ("backbone.stem.0.conv.weight", "bbox_head.tl_pool.0.direction1_conv.conv.weight",
             "bbox_head.br_heat.1.1.conv.bias", "bbox_head.tl_feat_adaption.1.weight",
             "bbox_head.br_guiding_shift.0.1.conv.weight",
             "bbox_head.tl_centripetal_shift.1.0.conv.weight",
             "bbox_head.br_centripetal_shift.1.1.conv.bias")
HEAD_NAMES = ("tl_heat", "br_heat", "tl_off", "br_off", "tl_guiding_shift", "br_guiding_shift",
              "tl_centripetal_shift", "br_centripetal_shift")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


CORNER = _load("make_reference_cornernet_for_centripetalnet",
               HERE.parent / "mmdet_reference_cornernet" / "make_reference.py")
set_flip = CORNER.set_flip


def _train_step(model, images, npz):
    import torch

    img, metas = CORNER._batch(model, [images[i] for i in TRAIN_IMAGES])
    gts = [torch.tensor(b, dtype=torch.float32) for b, _ in TRAIN_GTS]
    labels = [torch.tensor(lab, dtype=torch.long) for _, lab in TRAIN_GTS]
    model.train()
    model.zero_grad()
    losses = model.forward_train(img, metas, [g.clone() for g in gts], labels)
    sum(sum(v) for v in losses.values()).backward()
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
    cw = _load("calibrated_weights_centripetalnet", HERE / "calibrated_weights.py")
    base = _load("make_reference_base", HERE.parent / "mmdet_reference" / "make_reference.py")
    images = sorted(IMAGES.glob("img*.png"))
    cfg_path = HERE / CONFIG
    model = init_detector(str(cfg_path), None, device="cpu")
    keys = [[k, list(v.shape), str(v.dtype).replace("torch.", "")]
            for k, v in model.state_dict().items()]
    lines = ",\n".join("  " + json.dumps(k) for k in keys)
    (HERE / "keys_centripetalnet.json").write_text(
        f'{{"config": "{CONFIG}", "seed": {cw.DEFAULT_SEED}, "keys": [\n{lines}\n]}}\n')
    weights = cw.generate_state_dict({k: s for k, s, _ in keys}, cw.DEFAULT_SEED,
                                     {k: d for k, _, d in keys}, cfg_path.stem)
    model.load_state_dict(weights, strict=True)
    model.eval()
    npz = {}
    flip_counts = CORNER._detections(model, images, "det", npz)
    set_flip(model.cfg, False)
    single_counts = CORNER._detections(model, images, "det_single", npz)
    img, metas = CORNER._batch(model, images[:1])
    npz["inter/input/stats"] = np.array([float(img.double().sum()), float(img.double().std())])
    with torch.no_grad():
        outs = model.bbox_head(model.extract_feat(img))
        for name, levels in zip(HEAD_NAMES, outs):
            for level, t in enumerate(levels):
                base._summary(f"inter/head/{name}/{level}", t, npz)
        dets, labels = model.bbox_head.get_bboxes(*outs, img_metas=metas, rescale=True,
                                                  with_nms=False)[0]
        shifts = outs[6][-1].exp()
        offsets = model.bbox_head.tl_dcn_offset[1](outs[4][-1])
    order = torch.argsort(dets[:, 4], descending=True, stable=True)
    npz["inter/cand/num"] = np.array(int(dets.shape[0]))
    npz["inter/cand/first"] = torch.cat([dets[order], labels[order, None]], 1)[:N_ROWS].numpy()
    set_flip(model.cfg, True)
    train = _train_step(model, images, npz)
    base.save_npz(HERE / "reference_centripetalnet.npz", npz)
    summary = dict(config=CONFIG, seed=cw.DEFAULT_SEED, num_dets_flip=flip_counts,
                   num_dets_single=single_counts, num_candidates_img0=int(dets.shape[0]),
                   img0_labels=sorted({int(c) for c in labels}),
                   img0_tl_centripetal_exp=[float(shifts.min()), float(shifts.max())],
                   img0_tl_dcn_offset_abs_mean=float(offsets.abs().mean()),
                   train=train, versions=base._versions())
    (HERE / "reference_centripetalnet.json").write_text(base.dumps_json(summary))
    print(json.dumps(summary, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
