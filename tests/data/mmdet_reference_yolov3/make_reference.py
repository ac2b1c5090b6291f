"""Make the MMDetection 2.28.2 reference outputs for detbox's YOLOv3.

Run with the side venv (real mmdet 2.28.2 + mmcv-full 1.7.2, compiled CPU ops), never with
detbox's own::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_yolov3/make_reference.py

For each model of ``MODELS``: build it with MMDetection, write ``keys_<name>.json``, load the
calibrated weights (``calibrated_weights.py``), run ``inference_detector`` on the three images
of ``../mmdet_reference/images/``, record image 0's input / neck / head tensors and its
candidates before NMS (objectness at least ``conf_thr``, class score above ``score_thr``),
then one training step on a fixed batch (images 0 and 1 through the test pipeline, the ground
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
MODELS = {"yolov3": "configs/yolov3_d53_tiny_ref.py"}
N_ROWS = 50
# Ground truths of the training batch, in the padded 224 x 224 input's pixels.
TRAIN_GTS = (
    ([[20.0, 30.0, 90.0, 110.0], [110.0, 40.0, 210.0, 150.0]], [0, 2]),
    ([[15.0, 20.0, 150.0, 130.0], [40.0, 140.0, 160.0, 215.0], [70.0, 70.0, 98.0, 98.0]],
     [1, 0, 2]),
)
# Parameters whose gradient norms are recorded after the training step's backward.
GRAD_KEYS = ("backbone.conv_res_block5.res3.conv2.conv.weight", "neck.detect1.conv1.conv.weight",
             "neck.detect3.conv5.conv.weight", "bbox_head.convs_bridge.1.conv.weight",
             "bbox_head.convs_pred.0.weight", "bbox_head.convs_pred.2.bias")


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
    """Losses (summed over levels) and gradient norms of one training step (train mode)."""
    import torch
    from mmcv import Config
    from mmdet.core import build_assigner, build_sampler

    # init_detector drops train_cfg; give the head the config's assigner and its sampler
    model.bbox_head.assigner = build_assigner(
        Config.fromfile(model.cfg.filename).model.train_cfg.assigner)
    model.bbox_head.sampler = build_sampler(dict(type="PseudoSampler"))
    img, metas = _batch(model, images[:2])
    gts = [torch.tensor(b, dtype=torch.float32) for b, _ in TRAIN_GTS]
    labels = [torch.tensor(lab, dtype=torch.long) for _, lab in TRAIN_GTS]
    model.train()
    model.zero_grad()
    losses = model.forward_train(img, metas, [g.clone() for g in gts], labels)
    total = sum(sum(v) for v in losses.values())
    total.backward()
    out = {}
    for k, v in losses.items():
        for level, t in enumerate(v):
            npz[f"train/{k}/{level}"] = np.array(float(t), dtype=np.float64)
        out[k] = [float(t) for t in v]
    params = dict(model.named_parameters())
    for k in GRAD_KEYS:
        npz[f"train/grad_norm/{k}"] = np.array(float(params[k].grad.norm()), dtype=np.float64)
    model.zero_grad()
    model.eval()
    npz["train/input/stats"] = np.array([float(img.double().sum()), float(img.double().std())])
    return out


def _margins(head, pred_maps):
    """Smallest distances of image 0's objectness to ``conf_thr`` and of its class scores
    (of anchors passing ``conf_thr``) to ``score_thr``."""
    import torch

    cfg = head.test_cfg
    preds = torch.cat([p[:1].permute(0, 2, 3, 1).reshape(-1, head.num_attrib)
                       for p in pred_maps]).double()
    obj = preds[:, 4].sigmoid()
    cls = preds[obj >= cfg["conf_thr"], 5:].sigmoid()
    return (float((obj - cfg["conf_thr"]).abs().min()),
            float((cls - cfg["score_thr"]).abs().min()))


def _head_hook(model, rec, active, margins):
    """Wrap ``bbox_head.forward``: image 0's outputs in full, and the per-image margins."""
    head = model.bbox_head
    orig = head.forward

    def forward(feats):
        out = orig(feats)
        margins.append(_margins(head, out[0]))
        if active[0]:
            for level, t in enumerate(out[0]):
                rec[f"head/pred_map/{level}"] = t.detach().numpy().astype(np.float32)
        return out

    head.forward = forward


def _candidates(model, pred_maps, metas):
    """``(bboxes, scores, labels)`` of image 0 before NMS, rescaled: every (anchor, class) with
    objectness ``>= conf_thr`` and class score ``> score_thr``; score = class * objectness."""
    import torch

    head = model.bbox_head
    cfg = head.test_cfg
    anchors = torch.cat(head.prior_generator.grid_priors([p.shape[-2:] for p in pred_maps],
                                                         device="cpu"))
    strides = torch.cat([torch.full((p.shape[-2] * p.shape[-1] * head.num_base_priors,),
                                    float(s)) for p, s in zip(pred_maps, head.featmap_strides)])
    preds = torch.cat([p[:1].permute(0, 2, 3, 1).reshape(-1, head.num_attrib)
                       for p in pred_maps])
    box = torch.cat([preds[:, :2].sigmoid(), preds[:, 2:4]], 1)
    boxes = head.bbox_coder.decode(anchors, box, strides[:, None])
    boxes = boxes / boxes.new_tensor(np.asarray(metas[0]["scale_factor"]))
    obj = preds[:, 4].sigmoid()
    cls = preds[:, 5:].sigmoid()
    keep = obj >= cfg["conf_thr"]
    boxes, obj, cls = boxes[keep], obj[keep], cls[keep]
    idx, labels = torch.nonzero(cls > cfg["score_thr"], as_tuple=True)
    return boxes[idx], cls[idx, labels] * obj[idx], labels


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
                min_abs_margin_to_conf_thr=margins[-1][0],
                min_abs_margin_to_score_thr=margins[-1][1]))
    for k, v in rec.items():
        npz[f"inter/{k}"] = v
    img, metas = _batch(model, images[:1])
    with torch.no_grad():
        pred_maps = model.bbox_head(model.extract_feat(img))[0]
        bboxes, scores, labels = _candidates(model, pred_maps, metas)
    order = torch.argsort(scores, descending=True, stable=True)
    npz["inter/cand/num"] = np.array(int(scores.numel()))
    npz["inter/cand/first"] = torch.cat([bboxes[order], scores[order, None],
                                         labels[order, None].to(bboxes)], 1)[:N_ROWS].numpy()
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
    cw = _load("calibrated_weights_yolov3", HERE / "calibrated_weights.py")
    base = _load("make_reference_base", HERE.parent / "mmdet_reference" / "make_reference.py")
    images = sorted(IMAGES.glob("img*.png"))
    for name, rel in MODELS.items():
        summary = run_model(name, HERE / rel, images, cw, base)
        print(name, [im["num_dets"] for im in summary["images"]],
              [(round(im["min_abs_margin_to_conf_thr"], 7),
                round(im["min_abs_margin_to_score_thr"], 7)) for im in summary["images"]],
              summary["train"], file=sys.stderr)
        for check, rows in summary["stability"].items():
            print(f"  {check}: {rows}", file=sys.stderr)


if __name__ == "__main__":
    main()
