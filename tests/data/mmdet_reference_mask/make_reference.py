"""Make the MMDetection 2.28.2 reference outputs for detbox's instance segmentation parity.

Run with the side venv (real mmcv-full 1.7.2 with compiled CPU ops, mmdet 2.28.2,
pycocotools), never with detbox's own venv::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_mask/make_reference.py [--calibrate]

It writes ``annotations.json`` (COCO polygons for the three images of
``../mmdet_reference/images/``) and ``seg/*.png`` (semantic maps for HTC), then for each model
of ``configs/``:

1. builds it with MMDetection (``init_detector``, CPU), writes ``keys_<name>.json``;
2. loads the calibrated weights of ``calibrated_weights.py`` (strict);
3. runs ``inference_detector`` on each image: boxes and scores per class into
   ``reference_<name>.npz`` (``det/{i}/{c}``), every mask as COCO RLE into
   ``reference_<name>.json`` (``masks[i][c]``), with summaries;
4. runs one training forward on a batch of images 0 and 1 (the config's train pipeline,
   no flip, samplers keeping every candidate): the logged losses (``_parse_losses``) and a
   summary of the batch into the JSON.

``--calibrate`` only prints the ``MODEL_CLS_BIAS_SHIFT`` entries (class logits centred over
all RoIs of the three images, background ``BG_MARGIN`` above them).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REF = HERE.parent / "mmdet_reference"
MODELS = {
    "mask": "configs/mask_rcnn_r18_fpn_tiny.py",
    "cascade_mask": "configs/cascade_mask_rcnn_r18_fpn_tiny.py",
    "htc": "configs/htc_r18_fpn_tiny.py",
}
BG_MARGIN = 6.0
BG_BIAS = 4.0  # ../mmdet_reference/calibrated_weights.py's, drawn into uncalibrated logits
IMAGES = sorted((REF / "images").glob("img*.png"))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- data
def _polygon(cx, cy, rx, ry, n, phase):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False) + phase
    return np.round(np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1).reshape(-1),
                    2).tolist()


def write_annotations():
    """COCO json: three objects per image (an ellipse, a two-part object, a quadrilateral)."""
    import cv2

    images, anns = [], []
    (HERE / "seg").mkdir(exist_ok=True)
    for i, path in enumerate(IMAGES):
        w, h = (int(v) for v in path.stem.split("_")[1].split("x"))
        images.append(dict(id=i + 1, file_name=path.name, width=w, height=h))
        objects = [
            (1, [_polygon(w * 0.3, h * 0.35, w * 0.15, h * 0.2, 12, 0.1 * i)]),
            (2, [_polygon(w * 0.7, h * 0.3, w * 0.12, h * 0.12, 6, 0.3),
                 _polygon(w * 0.75, h * 0.55, w * 0.08, h * 0.1, 5, 0.0)]),
            (3, [[w * 0.2, h * 0.65, w * 0.55, h * 0.6, w * 0.6, h * 0.9, w * 0.25, h * 0.85]]),
        ]
        seg = np.zeros((h, w), np.uint8)
        for cat, polys in objects:
            xy = np.concatenate([np.asarray(p).reshape(-1, 2) for p in polys])
            x1, y1 = xy.min(0)
            x2, y2 = xy.max(0)
            anns.append(dict(id=len(anns) + 1, image_id=i + 1, category_id=cat,
                             bbox=[float(x1), float(y1), float(x2 - x1), float(y2 - y1)],
                             area=float((x2 - x1) * (y2 - y1)), iscrowd=0,
                             segmentation=[[round(float(v), 2) for v in p] for p in polys]))
            for p in polys:
                pts = np.round(np.asarray(p).reshape(-1, 2)).astype(np.int32)
                cv2.fillPoly(seg, [pts], int(cat) + 1)
        seg[:2] = 255  # an ignored band
        cv2.imwrite(str(HERE / "seg" / path.name), seg)
    cats = [dict(id=k + 1, name=n) for k, n in enumerate(("red", "green", "blue"))]
    (HERE / "annotations.json").write_text(json.dumps(
        dict(images=images, annotations=anns, categories=cats), indent=1) + "\n")


def _config(cfg_path):
    from mmcv import Config

    cfg = Config.fromfile(str(cfg_path))
    for split in ("train", "val", "test"):
        cfg.data[split].data_root = str(HERE) + "/"
    return cfg


# --------------------------------------------------------------------------- running
def _rle(mask):
    import pycocotools.mask as mask_util

    rle = mask_util.encode(np.asfortranarray(mask[:, :, None].astype(np.uint8)))[0]
    return rle["counts"].decode()


def _train_step(cfg, weights):
    """Logged losses of one training forward on images 0 and 1, and a batch summary.

    ``init_detector`` drops ``train_cfg``, so the model is built again with it."""
    import torch
    from mmcv.parallel import collate
    from mmdet.datasets import build_dataset
    from mmdet.models import build_detector

    model = build_detector(cfg.model)
    model.load_state_dict(weights, strict=True)
    dataset = build_dataset(cfg.data.train)
    batch = collate([dataset[0], dataset[1]], samples_per_gpu=2)
    data = {k: v.data[0] for k, v in batch.items()}
    model.train()
    losses = model(return_loss=True, **data)
    _, log_vars = model._parse_losses(losses)
    summary = dict(
        img_shape=list(data["img"].shape), img_sum=float(data["img"].double().sum()),
        gt_bboxes=[b.tolist() for b in data["gt_bboxes"]],
        gt_mask_areas=[[int(a) for a in m.areas] for m in data["gt_masks"]],
        gt_mask_shapes=[[m.height, m.width] for m in data["gt_masks"]],
    )
    if "gt_semantic_seg" in data:
        seg = data["gt_semantic_seg"]
        summary["gt_semantic_seg"] = dict(shape=list(seg.shape),
                                          sum=int(seg.to(torch.int64).sum()))
    return {k: float(v) for k, v in log_vars.items()}, summary


def run_model(name, cfg_path, seed, cw, base):
    import torch
    from mmdet.apis import inference_detector, init_detector

    cfg = _config(cfg_path)
    model = init_detector(_config(cfg_path), None, device="cpu")  # it drops train_cfg
    sd = model.state_dict()
    keys = [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()]
    lines = ",\n".join("  " + json.dumps(k) for k in keys)
    (HERE / f"keys_{name}.json").write_text(
        f'{{"config": "{cfg_path.relative_to(HERE)}", "seed": {seed}, "keys": [\n{lines}\n]}}\n')
    weights = cw.generate_state_dict({k: s for k, s, _ in keys}, seed,
                                     {k: d for k, _, d in keys}, cfg_path.stem)
    model.load_state_dict(weights, strict=True)
    model.eval()
    npz, masks, images = {}, [], []
    with torch.no_grad():
        for i, path in enumerate(IMAGES):
            bbox_result, segm_result = inference_detector(model, str(path))
            for c, dets in enumerate(bbox_result):
                npz[f"det/{i}/{c}"] = dets.astype(np.float32)
            masks.append([[_rle(m) for m in segm_result[c]] for c in range(len(segm_result))])
            areas = [int(m.sum()) for per in segm_result for m in per]
            images.append(dict(file=path.name, num_dets=[len(d) for d in bbox_result],
                               mask_area_min=min(areas) if areas else None,
                               mask_area_max=max(areas) if areas else None,
                               empty_masks=int(sum(a == 0 for a in areas))))
    base.save_npz(HERE / f"reference_{name}.npz", npz)
    losses, batch = _train_step(cfg, weights)
    summary = dict(config=str(cfg_path.relative_to(HERE)), seed=seed, images=images,
                   train_losses=losses, train_batch=batch, masks=masks,
                   versions=base._versions())
    (HERE / f"reference_{name}.json").write_text(base.dumps_json(summary))
    return summary


def calibrate(name, cfg_path, seed, cw):
    """Print the MODEL_CLS_BIAS_SHIFT entry of a model."""
    import torch
    from mmdet.apis import inference_detector, init_detector

    model = init_detector(_config(cfg_path), None, device="cpu")
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    model.load_state_dict(cw.generate_state_dict(shapes, seed, None, "uncalibrated"),
                          strict=True)
    model.eval()
    heads = model.roi_head.bbox_head
    heads = list(heads) if isinstance(heads, torch.nn.ModuleList) else [heads]
    logits = [[] for _ in heads]
    for stage, head in enumerate(heads):
        head.register_forward_hook(lambda m, a, out, s=stage: logits[s].append(out[0]))
    with torch.no_grad():
        for path in IMAGES:
            inference_detector(model, str(path))
    names = sorted(k for k in shapes if k.endswith("fc_cls.bias"))
    print(f'    "{cfg_path.stem}": {{')
    for key, per_stage in zip(names, logits):
        mean = torch.cat(per_stage).double().mean(0).numpy()
        shift = -mean
        shift[-1] += BG_BIAS + BG_MARGIN  # the shift replaces BG_BIAS on the background
        print(f'        "{key}": ({", ".join(str(round(float(x), 2)) for x in shift)}),')
    print("    },")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    cw = _load("calibrated_weights_mask", HERE / "calibrated_weights.py")
    base = _load("make_reference_two_stage", REF / "make_reference.py")
    write_annotations()
    for name in args.models:
        if args.calibrate:
            calibrate(name, HERE / MODELS[name], cw.DEFAULT_SEED, cw)
            continue
        summary = run_model(name, HERE / MODELS[name], cw.DEFAULT_SEED, cw, base)
        print(name, [im["num_dets"] for im in summary["images"]], summary["train_losses"],
              file=sys.stderr)


if __name__ == "__main__":
    main()
