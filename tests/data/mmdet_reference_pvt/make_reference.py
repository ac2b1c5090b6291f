"""Make the MMDetection 2.28.2 / MMClassification 0.25 reference outputs for PVT and ConvNeXt.

Run with the side venv (real mmdet 2.28.2, mmcv-full 1.7.2, mmcls 0.25), never with detbox's::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_pvt/make_reference.py

1. ``pvtv2_retinanet`` (``configs/retinanet_pvtv2_fpn_tiny.py``): exactly the one-stage
   procedure of ``../mmdet_reference_one_stage/make_reference.py`` (its ``run_model``, with the
   outputs written here): ``keys_pvtv2_retinanet.json``, ``reference_pvtv2_retinanet.{npz,json}``
   (detections of the 3 images of ``../mmdet_reference/images/``, with and without an active
   ``nms_pre`` cut, intermediate tensors of image 0, stability checks);
2. one training step of the same model on a fixed batch (``train_batch()``: two seeded noise
   images of 128 x 160, given boxes and labels), in train mode: every loss term, the total,
   and the gradient sums of a few parameters -> ``train_step_pvtv2_retinanet.json``;
3. backbone features for the same calibrated weights and a seeded input: MMDetection's
   ``PyramidVisionTransformer`` (v1, position embeddings resized from 64 px to the 96 x 128
   input) and MMClassification's ``ConvNeXt`` -> ``keys_<name>.json``,
   ``features_<name>.npz``.

``--calibrate Q`` only prints the RetinaNet classifier-bias shift (README.md: 0.998).
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
IMAGES = HERE.parent / "mmdet_reference" / "images"
RETINANET = "configs/retinanet_pvtv2_fpn_tiny.py"
# Backbones compared alone: (name, MMDetection / mmcls type, arguments, input shape).
BACKBONES = {
    "pvt_v1_backbone": dict(type="PyramidVisionTransformer", pretrain_img_size=64,
                            embed_dims=8, num_layers=[1, 2, 1, 1], num_heads=[1, 2, 2, 4],
                            drop_path_rate=0.0, init_cfg=None),
    "convnext_backbone": dict(type="mmcls.ConvNeXt",
                              arch=dict(depths=[1, 1, 2, 1], channels=[8, 16, 24, 32]),
                              out_indices=[0, 1, 2, 3], drop_path_rate=0.0,
                              layer_scale_init_value=1.0, gap_before_final_norm=False),
}
FEATURE_INPUT = (2, 3, 96, 128)
FEATURE_SEED = 11
TRAIN_SEED = 5
GRAD_KEYS = ("backbone.layers.0.0.projection.weight", "backbone.layers.3.1.0.attn.attn.in_proj_weight",
             "neck.fpn_convs.0.conv.weight", "bbox_head.retina_cls.weight",
             "bbox_head.retina_reg.bias")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def train_batch():
    """The fixed training batch: ``(img [2, 3, 128, 160] float32, metas, gt_bboxes, gt_labels)``
    as NumPy / plain Python values (both sides build the same tensors from them)."""
    rng = np.random.RandomState(TRAIN_SEED)
    img = rng.standard_normal((2, 3, 128, 160)).astype(np.float32)
    meta = dict(img_shape=(128, 160, 3), ori_shape=(128, 160, 3), pad_shape=(128, 160, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)
    boxes = [np.array([[10.0, 12.0, 90.0, 100.0], [60.0, 30.0, 150.0, 120.0]], np.float32),
             np.array([[30.0, 40.0, 70.0, 110.0]], np.float32)]
    labels = [np.array([0, 2]), np.array([1])]
    return img, [meta, dict(meta)], boxes, labels


def feature_input():
    return np.random.RandomState(FEATURE_SEED).standard_normal(FEATURE_INPUT).astype(np.float32)


def _keys_json(name, config, sd, seed):
    keys = [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()]
    lines = ",\n".join("  " + json.dumps(k) for k in keys)
    (HERE / f"keys_{name}.json").write_text(
        f'{{"config": "{config}", "seed": {seed}, "keys": [\n{lines}\n]}}\n')
    return keys


def train_step(model, cw, base):
    """Losses and gradient sums of one training step (train mode) on ``train_batch()``."""
    import torch

    img, metas, boxes, labels = train_batch()
    model.train()
    model.zero_grad()
    losses = model(img=torch.from_numpy(img), img_metas=metas, return_loss=True,
                   gt_bboxes=[torch.from_numpy(b) for b in boxes],
                   gt_labels=[torch.from_numpy(x) for x in labels])
    loss, log_vars = model._parse_losses(losses)
    loss.backward()
    params = dict(model.named_parameters())
    out = dict(
        terms={k: [float(x) for x in v] if isinstance(v, (list, tuple)) else float(v)
               for k, v in losses.items()},
        log_vars={k: float(v) for k, v in log_vars.items()},
        grad_abs_sum={k: float(params[k].grad.abs().sum()) for k in GRAD_KEYS},
        seed=TRAIN_SEED)
    model.eval()
    (HERE / "train_step_pvtv2_retinanet.json").write_text(base.dumps_json(out))
    return out


def backbone_features(name, cw, base):
    import torch
    from mmdet.models import build_backbone

    if name.startswith("convnext"):
        import mmcls.models  # noqa: F401  (registers mmcls.ConvNeXt in mmdet's registry)
    model = build_backbone(dict(BACKBONES[name]))
    model.eval()
    sd = {f"backbone.{k}": v for k, v in model.state_dict().items()}
    keys = _keys_json(name, name, sd, cw.DEFAULT_SEED)
    weights = cw.generate_state_dict({k: s for k, s, _ in keys}, cw.DEFAULT_SEED,
                                     {k: d for k, _, d in keys}, name)
    model.load_state_dict({k[len("backbone."):]: v for k, v in weights.items()}, strict=True)
    with torch.no_grad():
        feats = model(torch.from_numpy(feature_input()))
    npz = {f"feat/{i}": f.numpy().astype(np.float32) for i, f in enumerate(feats)}
    base.save_npz(HERE / f"features_{name}.npz", npz)
    return [list(f.shape) for f in feats]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", type=float, metavar="QUANTILE")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    cw = _load("calibrated_weights_pvt", HERE / "calibrated_weights.py")
    one_stage = _load("make_reference_one_stage", ONE_STAGE / "make_reference.py")
    one_stage.HERE = HERE  # its run_model writes keys_/reference_ files beside this script
    base = one_stage._base()
    images = sorted(IMAGES.glob("img*.png"))
    if args.calibrate:
        one_stage.calibrate("pvtv2_retinanet", HERE / RETINANET, images, cw, args.calibrate)
        return
    summary = one_stage.run_model("pvtv2_retinanet", HERE / RETINANET, images, cw, base)
    counts = [im["num_dets"] for im in summary["images"]]
    cut = [sum(im["cut"]["num_dets_per_class"]) for im in summary["images"]]
    margins = [round(im["min_abs_margin_to_score_thr"], 7) for im in summary["images"]]
    print(f"pvtv2_retinanet: detections {counts}, with the cut {cut}, min |score - thr| "
          f"{margins}", file=sys.stderr)
    for check, rows in summary["stability"].items():
        print(f"  {check}: {rows}", file=sys.stderr)

    from mmcv import Config
    from mmdet.models import build_detector

    model = build_detector(Config.fromfile(str(HERE / RETINANET)).model)  # with its train_cfg
    keys = json.loads((HERE / "keys_pvtv2_retinanet.json").read_text())["keys"]
    model.load_state_dict(cw.generate_state_dict(
        {k: s for k, s, _ in keys}, cw.DEFAULT_SEED, {k: d for k, _, d in keys},
        Path(RETINANET).stem), strict=True)
    step = train_step(model, cw, base)
    print(f"train step: {step['log_vars']}", file=sys.stderr)
    for name in BACKBONES:
        print(f"{name}: features {backbone_features(name, cw, base)}", file=sys.stderr)


if __name__ == "__main__":
    main()
