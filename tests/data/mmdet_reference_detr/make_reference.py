"""Make the MMDetection 2.28.2 reference outputs for detbox's DETR-family detectors.

Run with the side venv that has real mmcv-full 1.7.x and mmdet 2.28.2, never with detbox's
own venv (``tests/data/side_env/make_side_venv.sh``)::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_detr/make_reference.py

For each model of ``MODELS`` it builds the model with MMDetection (``init_detector``, CPU),
writes ``keys_<name>.json``, loads the calibrated weights of ``calibrated_weights.py``
(strict) and records in ``reference_<name>.npz`` / ``.json``:

1. ``inference_detector`` on each image of ``../mmdet_reference/images/`` (one at a time);
2. image 0's last-layer class scores and boxes (``inter/...``) and, per image, the score gap
   at the head's top-k cut (how safe the selection is);
3. one training step: images 0 and 1 through the test pipeline (collated, so image 0 is
   padded), the fixed ground truths of ``GT``, ``model.train()``, the loss dict, and the
   gradient norm of a few parameters after ``backward`` of the summed loss;
4. stability: weights times ``1 + eps N(0, 1)`` (``eps`` 1e-7 and 1e-6), how far
   detections and losses move.

The second part of the file is ``--msda``: ``multi_scale_deformable_attn_pytorch`` of mmcv on
fixed random inputs (forward output and the gradients of value, sampling locations and
attention weights), written to ``msda_reference.npz``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent / "mmdet_reference" / "images"
MODELS = {
    "detr": "configs/detr_r18_tiny.py",
    "deformable_detr": "configs/deformable_detr_r18_tiny.py",
    "deformable_detr_refine": "configs/deformable_detr_refine_r18_tiny.py",
    "deformable_detr_twostage_refine": "configs/deformable_detr_twostage_refine_r18_tiny.py",
    "sparse_rcnn": "configs/sparse_rcnn_r18_fpn_tiny.py",
}
# Ground truths of the training step, in img_shape pixels of images 0 (213x320) and 1 (320x242).
GT = (
    ([[30.0, 40.0, 120.0, 150.0], [150.0, 20.0, 250.0, 100.0]], [0, 2]),
    ([[20.0, 30.0, 100.0, 200.0]], [1]),
)
GRAD_PARAMS = 4  # gradient norms recorded for the first few parameters with "head" in the name


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _base():
    return _load("make_reference_base", HERE.parent / "mmdet_reference" / "make_reference.py")


def _batch(model, paths):
    """Images through the test pipeline, collated as one padded batch (mmcv collate)."""
    from mmcv.parallel import collate
    from mmdet.datasets import replace_ImageToTensor
    from mmdet.datasets.pipelines import Compose

    cfg = model.cfg.copy()
    cfg.data.test.pipeline = replace_ImageToTensor(cfg.data.test.pipeline)
    pipeline = Compose(cfg.data.test.pipeline)
    data = [pipeline(dict(img_info=dict(filename=str(p)), img_prefix=None)) for p in paths]
    data = collate(data, samples_per_gpu=len(paths))
    img, metas = data["img"][0].data[0], data["img_metas"][0].data[0]
    for m in metas:  # as the detector's forward_train / forward_test add it
        m["batch_input_shape"] = tuple(img.shape[-2:])
    return img, metas


def _last_layer(model, img, metas):
    """Class scores ``[Q, C]`` and boxes of the head's last layer for the batch."""
    import torch

    with torch.no_grad():
        feats = model.extract_feat(img)
        if hasattr(model, "roi_head"):
            captured = {}
            orig = model.roi_head._bbox_forward

            def capture(*args, **kwargs):
                out = orig(*args, **kwargs)
                captured.update(cls=out["cls_score"], boxes=out["decode_bbox_pred"])
                return out

            model.roi_head._bbox_forward = capture
            try:
                boxes, feats_p, whwh = model.rpn_head.simple_test_rpn(feats, metas)
                model.roi_head.simple_test(feats, boxes, feats_p, metas, imgs_whwh=whwh)
            finally:
                model.roi_head._bbox_forward = orig
            return captured["cls"], captured["boxes"].view(len(metas), -1, 4), True
        outs = model.bbox_head(feats, metas)
        if isinstance(outs[0], list):  # DETRHead: per level lists
            cls, boxes = outs[0][-1][-1], outs[1][-1][-1]
        else:
            cls, boxes = outs[0][-1], outs[1][-1]
        return cls, boxes, model.bbox_head.loss_cls.use_sigmoid


def _topk_gap(cls, sigmoid, k):
    """Smallest gap between the k-th and (k+1)-th candidate score (per image)."""
    import torch

    gaps = []
    for c in cls:
        scores = c.sigmoid().reshape(-1) if sigmoid else c.softmax(-1)[..., :-1].max(-1)[0]
        top = torch.sort(scores.double(), descending=True).values
        gaps.append(float(top[k - 1] - top[k]) if top.numel() > k else None)
    return gaps


def _train_model(cfg_path, weights):
    """The model with its ``train_cfg`` (``init_detector`` drops it), calibrated weights."""
    from mmcv import Config
    from mmdet.models import build_detector

    cfg = Config.fromfile(str(cfg_path))
    model = build_detector(cfg.model)
    model.cfg = cfg
    model.load_state_dict(weights, strict=True)
    return model


def _train_step(model):
    """Losses of one training forward on images 0, 1 with ``GT``; gradient norms."""
    import torch

    img, metas = _batch(model, sorted(IMAGES.glob("img*.png"))[:2])
    gt_bboxes = [torch.tensor(b, dtype=torch.float32) for b, _ in GT]
    gt_labels = [torch.tensor(lab, dtype=torch.long) for _, lab in GT]
    model.train()
    model.zero_grad()
    losses = model(img=img, img_metas=metas, return_loss=True, gt_bboxes=gt_bboxes,
                   gt_labels=gt_labels)
    loss, log_vars = model._parse_losses(losses)
    loss.backward()
    grads = {}
    for name, p in model.named_parameters():
        if "head" in name and p.grad is not None and len(grads) < GRAD_PARAMS:
            grads[name] = float(p.grad.double().norm())
    model.eval()
    model.zero_grad()
    return ({k: float(v.detach().double().sum()) if torch.is_tensor(v) else float(sum(v))
             for k, v in losses.items()}, float(loss), grads, metas, img)


def _compare(results, npz):
    """Largest differences of detections (sorted by score per class) from the recorded ones."""
    box, score, same = 0.0, 0.0, True
    for i, result in enumerate(results):
        for c, dets in enumerate(result):
            ref = npz[f"det/{i}/{c}"]
            if dets.shape != ref.shape:
                same = False
                continue
            a = dets[np.argsort(-dets[:, 4], kind="stable")]
            b = ref[np.argsort(-ref[:, 4], kind="stable")]
            if b.size:
                box = max(box, float(np.abs(a[:, :4] - b[:, :4]).max()))
                score = max(score, float((np.abs(a[:, 4] - b[:, 4]) / b[:, 4]).max()))
    return dict(same_counts=same, max_abs_box_diff_px=box, max_rel_score_diff=score)


OPTIMIZER = dict(type="AdamW", lr=2e-4, weight_decay=1e-4, paramwise_cfg=dict(custom_keys={
    "backbone": dict(lr_mult=0.1), "sampling_offsets": dict(lr_mult=0.1),
    "reference_points": dict(lr_mult=0.1)}))


def _param_groups(model):
    """mmcv's optimizer of the Deformable DETR recipe: each parameter's lr and weight decay."""
    from mmcv.runner import build_optimizer

    optimizer = build_optimizer(model, OPTIMIZER)
    names = {id(p): n for n, p in model.named_parameters()}
    return {names[id(p)]: [g["lr"], g["weight_decay"]] for g in optimizer.param_groups
            for p in g["params"]}


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
    test_cfg = model.roi_head.test_cfg if hasattr(model, "roi_head") else model.bbox_head.test_cfg
    k = test_cfg["max_per_img"]
    npz, summary_images, results = {}, [], []
    with torch.no_grad():
        for i, path in enumerate(images):
            result = inference_detector(model, str(path))
            results.append(result)
            meta = base._meta_of(model, path)
            for c, dets in enumerate(result):
                npz[f"det/{i}/{c}"] = dets.astype(np.float32)
            for key in ("ori_shape", "img_shape", "pad_shape"):
                npz[f"meta/{i}/{key}"] = np.array(meta[key], dtype=np.int64)
            npz[f"meta/{i}/scale_factor"] = np.asarray(meta["scale_factor"], dtype=np.float32)
            img, metas = _batch(model, [path])
            cls, boxes, sigmoid = _last_layer(model, img, metas)
            if i == 0:
                npz["inter/cls_score"] = cls[0].numpy().astype(np.float32)
                npz["inter/bbox_pred"] = boxes[0].numpy().astype(np.float32)
            scores = np.concatenate([d[:, 4] for d in result])
            summary_images.append(dict(
                file=f"../mmdet_reference/images/{path.name}",
                img_shape=list(meta["img_shape"]),
                num_dets_per_class=[int(d.shape[0]) for d in result],
                min_score=float(scores.min()), max_score=float(scores.max()),
                min_score_gap_at_topk_cut=_topk_gap(cls, sigmoid, k)[0]))
    train_model = _train_model(cfg_path, weights)
    losses, total, grads, metas, img = _train_step(train_model)
    for key, value in losses.items():
        npz[f"loss/{key}"] = np.array(value, dtype=np.float64)
    npz["train/input_sum"] = np.array(float(img.double().sum()))
    base.save_npz(HERE / f"reference_{name}.npz", npz)
    stability = {}
    for eps in (1e-7, 1e-6):
        rng = np.random.RandomState(123)
        noisy = {kk: (v * (1 + eps * torch.from_numpy(rng.standard_normal(tuple(v.shape)))
                           .to(v.dtype)) if v.is_floating_point() else v)
                 for kk, v in weights.items()}
        model.load_state_dict(noisy, strict=True)
        with torch.no_grad():
            row = _compare([inference_detector(model, str(p)) for p in images], npz)
        train_model.load_state_dict(noisy, strict=True)
        noisy_losses = _train_step(train_model)[0]
        row["max_rel_loss_diff"] = max(abs(noisy_losses[kk] - v) / max(abs(v), 1e-12)
                                       for kk, v in losses.items())
        stability[f"weights_rel_{eps:g}"] = row
    model.load_state_dict(weights, strict=True)
    summary = dict(config=str(cfg_path.relative_to(HERE)), seed=cw.DEFAULT_SEED,
                   images=summary_images,
                   train=dict(gt=GT, batch_input_shape=list(metas[0]["batch_input_shape"])
                              if "batch_input_shape" in metas[0] else list(img.shape[-2:]),
                              losses=losses, loss=total, grad_norms=grads),
                   stability=stability, versions=base._versions())
    if name == "deformable_detr":
        summary["optimizer"] = dict(config=OPTIMIZER, param_lr_wd=_param_groups(model))
    (HERE / f"reference_{name}.json").write_text(base.dumps_json(summary))
    return summary


def make_msda(base):
    """mmcv's ``multi_scale_deformable_attn_pytorch`` on fixed inputs, forward and backward."""
    import torch
    from mmcv.ops.multi_scale_deform_attn import multi_scale_deformable_attn_pytorch

    torch.manual_seed(0)
    shapes = torch.tensor([[6, 8], [3, 4], [2, 2]])
    bs, heads, dims, queries, points = 2, 2, 4, 5, 3
    num_keys = int((shapes[:, 0] * shapes[:, 1]).sum())
    value = torch.randn(bs, num_keys, heads, dims, dtype=torch.float64, requires_grad=True)
    # locations in [-0.1, 1.1]: some fall outside (zero padding)
    loc = (torch.rand(bs, queries, heads, len(shapes), points, 2, dtype=torch.float64) * 1.2
           - 0.1).requires_grad_()
    weights = torch.rand(bs, queries, heads, len(shapes), points, dtype=torch.float64)
    weights = (weights / weights.sum((-1, -2), keepdim=True)).requires_grad_()
    out = multi_scale_deformable_attn_pytorch(value, shapes, loc, weights)
    grad_out = torch.randn_like(out)
    out.backward(grad_out)
    arrays = {"spatial_shapes": shapes.numpy(), "value": value.detach().numpy(),
              "sampling_locations": loc.detach().numpy(), "attention_weights":
              weights.detach().numpy(), "grad_output": grad_out.numpy(),
              "output": out.detach().numpy(), "grad_value": value.grad.numpy(),
              "grad_sampling_locations": loc.grad.numpy(),
              "grad_attention_weights": weights.grad.numpy()}
    base.save_npz(HERE / "msda_reference.npz", arrays)
    print("msda: output", tuple(out.shape), file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--msda", action="store_true", help="also write msda_reference.npz")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    cw = _load("calibrated_weights_detr", HERE / "calibrated_weights.py")
    base = _base()
    if args.msda:
        make_msda(base)
    images = sorted(IMAGES.glob("img*.png"))
    for name in args.models:
        summary = run_model(name, HERE / MODELS[name], images, cw, base)
        print(f"{name}: detections {[im['num_dets_per_class'] for im in summary['images']]}, "
              f"top-k gaps {[im['min_score_gap_at_topk_cut'] for im in summary['images']]}, "
              f"loss {summary['train']['loss']:.5f}", file=sys.stderr)
        for check, row in summary["stability"].items():
            print(f"  {check}: {row}", file=sys.stderr)
    print(platform.python_version(), file=sys.stderr)


if __name__ == "__main__":
    main()
