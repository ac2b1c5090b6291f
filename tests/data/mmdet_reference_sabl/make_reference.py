"""Make the MMDetection 2.28.2 reference outputs for detbox's SABL RetinaNet and Faster R-CNN.

Run with the side venv (real mmcv-full 1.7.x with compiled CPU ops, mmdet 2.28.2), never with
detbox's own venv::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_sabl/make_reference.py

For each model of ``MODELS`` (configs in ``configs/``) it:

1. builds the model with MMDetection (``init_detector``, CPU) and writes ``keys_<name>.json``
   (state_dict keys, shapes, dtypes, seed);
2. loads the calibrated weights of ``calibrated_weights.py`` (strict);
3. runs ``inference_detector`` on ``../mmdet_reference/images/img*.png``: ``det/{i}/{c}``;
   for RetinaNet also with ``test_cfg.nms_pre=30, score_thr=0.02`` (``det_cut/{i}/{c}``: the
   per-level top-k selection is active on every level);
4. records how close the class scores come to ``score_thr`` (the count's sensitivity), and
   how far the detections move when every weight is multiplied by ``1 + eps N(0, 1)``;
5. runs one training step as ``../mmdet_reference_dense2/make_reference.py`` does (images 0
   and 1 through the test pipeline, its ``TRAIN_GT`` boxes, fresh calibrated weights, training
   mode) and records every loss (summed over levels, float64) and the total ``loss``;
6. writes ``reference_<name>.npz`` and ``reference_<name>.json``.

It also writes ``coder.npz``: MMDetection's ``BucketingBBoxCoder`` encode / decode outputs on
seeded random boxes for the settings of ``CODER_CASES`` (``coder_reference``).

``--calibrate`` prints the classifier-bias shifts of ``calibrated_weights.MODEL_SHIFTS``.
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
    "sabl_retinanet": "configs/sabl_retinanet_r18_fpn_tiny.py",
    "sabl_faster": "configs/sabl_faster_rcnn_r18_fpn_tiny.py",
    "sabl_cascade": "configs/sabl_cascade_rcnn_r18_fpn_tiny.py",
}
SCORE_THR = 0.05
CUT_CFG = dict(nms_pre=30, score_thr=0.02)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class ScoreMargins:
    """Per image, the smallest ``|score - score_thr|`` over all (prior or RoI, class) pairs."""

    def __init__(self, model):
        import torch

        self.values = []
        self.score_thr = SCORE_THR
        if hasattr(model, "roi_head"):
            head = model.roi_head.bbox_head
            head = head[-1] if isinstance(head, torch.nn.ModuleList) else head
            orig = head.get_bboxes

            def get_bboxes(rois, cls_score, *args, **kwargs):
                probs = cls_score.softmax(-1)[:, :-1].double()
                self.values.append(float((probs - self.score_thr).abs().min()))
                return orig(rois, cls_score, *args, **kwargs)

            head.get_bboxes = get_bboxes
        else:
            head = model.bbox_head
            orig = head.forward

            def forward(*args, **kwargs):
                out = orig(*args, **kwargs)
                self.values.append(min(
                    float((c.sigmoid().double() - self.score_thr).abs().min()) for c in out[0]))
                return out

            head.forward = forward


def _detect(model, images, npz, prefix, margins):
    import torch
    from mmdet.apis import inference_detector

    rows = []
    with torch.no_grad():
        for i, path in enumerate(images):
            result = inference_detector(model, str(path))
            for c, dets in enumerate(result):
                npz[f"{prefix}/{i}/{c}"] = dets.astype(np.float32)
            scores = np.concatenate([d[:, 4] for d in result])
            rows.append(dict(num_dets_per_class=[int(d.shape[0]) for d in result],
                             min_score=float(scores.min()) if scores.size else None,
                             max_score=float(scores.max()) if scores.size else None,
                             min_abs_margin_to_score_thr=margins.values[-1]))
    return rows


def run_model(name, cfg_path, images, cw, base, dense2):
    import torch
    from mmdet.apis import init_detector

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
    margins = ScoreMargins(model)
    npz = {}
    rows = _detect(model, images, npz, "det", margins)
    for i, path in enumerate(images):
        meta = base._meta_of(model, path)
        for key in ("ori_shape", "img_shape", "pad_shape"):
            npz[f"meta/{i}/{key}"] = np.array(meta[key], dtype=np.int64)
        npz[f"meta/{i}/scale_factor"] = np.asarray(meta["scale_factor"], dtype=np.float32)
        rows[i].update(file=f"../mmdet_reference/images/{path.name}",
                       img_shape=list(meta["img_shape"]),
                       scale_factor=[float(x) for x in meta["scale_factor"]])
    if not hasattr(model, "roi_head"):
        saved = dict(model.bbox_head.test_cfg)
        model.bbox_head.test_cfg.update(CUT_CFG)
        margins.score_thr = CUT_CFG["score_thr"]
        for row, cut in zip(rows, _detect(model, images, npz, "det_cut", margins)):
            row["cut"] = dict(test_cfg=CUT_CFG, **cut)
        model.bbox_head.test_cfg.update(saved)
        margins.score_thr = SCORE_THR
    base.save_npz(HERE / f"reference_{name}.npz", npz)
    stability = {}
    for eps in (1e-7, 1e-6):
        rng = np.random.RandomState(123)
        noisy = {k: (v * (1 + eps * torch.from_numpy(rng.standard_normal(tuple(v.shape)))
                          .to(v.dtype)) if v.is_floating_point() else v)
                 for k, v in weights.items()}
        model.load_state_dict(noisy, strict=True)
        stability[f"weights_rel_{eps:g}"] = base._rerun(model, images, npz)
    losses, batch = dense2.train_step(name, cfg_path, images, cw)
    summary = dict(config=str(cfg_path.relative_to(HERE)), seed=cw.DEFAULT_SEED, images=rows,
                   stability=stability,
                   train=dict(batch, gt=[dict(bboxes=b, labels=lab) for b, lab in
                                         dense2.TRAIN_GT], losses=losses),
                   versions=base._versions())
    (HERE / f"reference_{name}.json").write_text(base.dumps_json(summary))
    return summary


# BucketingBBoxCoder settings of coder.npz: (num_buckets, scale_factor, offset_topk,
# offset_upperbound, cls_ignore_neighbor, clip_border)
CODER_CASES = (
    (14, 3.0, 2, 1.0, True, True),
    (14, 1.7, 2, 1.0, True, True),
    (7, 1.3, 3, 0.5, False, True),
    (8, 1.0, 1, 1.0, True, False),
)


def coder_reference(seed=11, n=24, max_shape=(120, 160, 3)):
    """MMDetection's ``BucketingBBoxCoder`` on seeded random boxes: ``case{k}/{name}``.

    Proposals are random boxes in a 160x120 image; targets are them moved by up to half their
    size; ``cls_preds`` / ``offset_preds`` are ``N(0, 2)`` / ``N(0, 0.5)`` draws; decoding
    clips to ``max_shape``."""
    import torch
    from mmdet.core.bbox.coder import BucketingBBoxCoder

    rng = np.random.RandomState(seed)
    xy = rng.uniform(0, 120, size=(n, 2))
    wh = rng.uniform(4, 60, size=(n, 2))
    proposals = np.concatenate([xy, xy + wh], 1)
    gts = proposals + rng.uniform(-0.5, 0.5, size=(n, 4)) * np.concatenate([wh, wh], 1)
    gts[:, 2:] = np.maximum(gts[:, 2:], gts[:, :2] + 1)
    out = {"proposals": proposals.astype(np.float32), "gts": gts.astype(np.float32),
           "max_shape": np.array(max_shape, dtype=np.int64)}
    for k, (buckets, scale, topk, upper, ignore, clip) in enumerate(CODER_CASES):
        coder = BucketingBBoxCoder(buckets, scale, offset_topk=topk, offset_upperbound=upper,
                                   cls_ignore_neighbor=ignore, clip_border=clip)
        side = int(np.ceil(buckets / 2))
        encoded = coder.encode(torch.from_numpy(out["proposals"]), torch.from_numpy(out["gts"]))
        for key, value in zip(("offsets", "offset_weights", "bucket_labels", "cls_weights"),
                              encoded):
            out[f"case{k}/{key}"] = value.numpy()
        cls_preds = rng.normal(0, 2.0, size=(n, 4 * side)).astype(np.float32)
        offset_preds = rng.normal(0, 0.5, size=(n, 4 * side)).astype(np.float32)
        bboxes, confidence = coder.decode(
            torch.from_numpy(out["proposals"]),
            (torch.from_numpy(cls_preds), torch.from_numpy(offset_preds)), max_shape=max_shape)
        out.update({f"case{k}/cls_preds": cls_preds, f"case{k}/offset_preds": offset_preds,
                    f"case{k}/bboxes": bboxes.numpy(), f"case{k}/confidence": confidence.numpy()})
    return out


def calibrate(name, cfg_path, images, cw):
    """Print the classifier logits' statistics with the current shifts removed: RetinaNet the
    shifts putting each class's 0.995 quantile at logit(0.05); R-CNN heads (each cascade
    stage) the mean and std of every logit over all RoIs."""
    import torch
    from mmdet.apis import inference_detector, init_detector

    model = init_detector(str(cfg_path), None, device="cpu")
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    weights = cw.generate_state_dict(shapes, cw.DEFAULT_SEED, None, cfg_path.stem)
    keys = [k for k in shapes if k.endswith("_cls.bias") and "rpn" not in k
            and "bbox_cls" not in k and "reg_cls" not in k]
    for key in keys:
        current = cw._first(cw.MODEL_SHIFTS.get(cfg_path.stem, ()), key) or 0.0
        weights[key] -= torch.tensor(current, dtype=weights[key].dtype)
    model.load_state_dict(weights, strict=True)
    logits = {}
    if hasattr(model, "roi_head"):
        heads = model.roi_head.bbox_head
        heads = list(heads) if isinstance(heads, torch.nn.ModuleList) else [heads]
        for key, head in zip(keys, heads):
            head.register_forward_hook(
                lambda m, a, out, key=key: logits.setdefault(key, []).append(out[0].detach()))
    else:
        orig = model.bbox_head.forward

        def forward(*args):
            out = orig(*args)
            logits.setdefault(keys[0], []).extend(
                c.permute(0, 2, 3, 1).reshape(-1, c.size(1)) for c in out[0])
            return out

        model.bbox_head.forward = forward
    with torch.no_grad():
        for path in images:
            inference_detector(model, str(path))
    for key, parts in logits.items():
        values = torch.cat(parts).double()
        if not hasattr(model, "roi_head"):
            target = float(np.log(SCORE_THR / (1 - SCORE_THR)))
            shifts = [round(target - float(torch.quantile(v, 0.995)), 2) for v in values.t()]
            print(f"{name}: {key} shifts {shifts} (0.995 quantile per class at logit(0.05))")
        else:
            print(f"{name}: {key} means {[round(v, 2) for v in values.mean(0).tolist()]} "
                  f"stds {[round(v, 2) for v in values.std(0).tolist()]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    cw = _load("calibrated_weights_sabl", HERE / "calibrated_weights.py")
    base = _load("make_reference_base", HERE.parent / "mmdet_reference" / "make_reference.py")
    dense2 = _load("make_reference_dense2",
                   HERE.parent / "mmdet_reference_dense2" / "make_reference.py")
    images = sorted(IMAGES.glob("img*.png"))
    if not args.calibrate:
        base.save_npz(HERE / "coder.npz", coder_reference())
    for name in args.models:
        if args.calibrate:
            calibrate(name, HERE / MODELS[name], images, cw)
            continue
        summary = run_model(name, HERE / MODELS[name], images, cw, base, dense2)
        counts = [sum(r["num_dets_per_class"]) for r in summary["images"]]
        margins = [r["min_abs_margin_to_score_thr"] for r in summary["images"]]
        print(f"{name}: detections {counts}, min |score - thr| {margins}", file=sys.stderr)
        for row in summary["images"]:
            if "cut" in row:
                print(f"  cut: {row['cut']['num_dets_per_class']} "
                      f"margin {row['cut']['min_abs_margin_to_score_thr']}", file=sys.stderr)
        print(f"  losses {summary['train']['losses']}", file=sys.stderr)
        for check, res in summary["stability"].items():
            print(f"  {check}: {res}", file=sys.stderr)


if __name__ == "__main__":
    main()
