"""Make the MMDetection 2.28.2 reference outputs for detbox's one-stage detectors.

Run with the side venv that has real mmcv-full 1.7.x (compiled CPU ops, including the modulated
deformable convolution DyHead uses) and mmdet 2.28.2, never with detbox's own venv (see
``../mmdet_reference/README.md`` for how that venv is built)::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_one_stage/make_reference.py

For each model of ``MODELS`` it:

1. builds the model with MMDetection (``init_detector``, no checkpoint, CPU);
2. writes ``keys_<name>.json`` (state_dict keys, shapes, dtypes, seed);
3. loads the calibrated weights of ``calibrated_weights.py`` (strict);
4. runs ``inference_detector`` one image at a time on ``../mmdet_reference/images/*.png``;
5. records, for image 0, the input, the neck outputs and the head outputs, and the
   candidates the head keeps before NMS (``get_bboxes(..., with_nms=False)``);
6. writes ``reference_<name>.npz`` and ``reference_<name>.json`` (summary and stability checks).

``--calibrate`` prints, per model, the classifier-bias shift that puts a chosen quantile of all
class logits (3 images) at logit(0.05).
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
    "retinanet": "configs/retinanet_r18_fpn_tiny.py",
    "fcos": "configs/fcos_r18_fpn_gn-head_tiny.py",
    "fcos_norm": "configs/fcos_center-normbbox-centeronreg-giou_r18_fpn_gn-head_tiny.py",
    "atss": "configs/atss_r18_fpn_tiny.py",
    "atss_dyhead": "configs/atss_r18_fpn_dyhead_tiny.py",
}
N_SAMPLES = 64
N_ROWS = 50
FULL_LEVELS = (2, 3, 4)  # head outputs stored in full on these levels, summarised on the others
SCORE_THR = 0.05
NMS_PRE = 1000
# A second pass with a test_cfg whose per-level nms_pre cut is active (det_cut/...).
CUT_CFG = dict(nms_pre=30, score_thr=0.02)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _base():
    """The two-stage reference script (its npz/json writers and summaries are reused)."""
    return _load("make_reference_base", HERE.parent / "mmdet_reference" / "make_reference.py")


def _on_head_forward(head, hook):
    """Call ``hook(head, None, outputs)`` after every ``head.forward`` (dense heads' test code
    calls ``self.forward`` directly, so module forward hooks would not run)."""
    orig = head.forward

    def forward(*args, **kwargs):
        out = orig(*args, **kwargs)
        hook(head, args, out)
        return out

    head.forward = forward


class Recorder:
    """Hooks on the neck and the head that capture image 0's tensors and score margins."""

    def __init__(self, model, summary):
        self.model = model
        self.summary = summary
        self.rec = {}
        self.active = False
        self.margins = []  # per image: min |sigmoid(cls) - score_thr| over all (prior, class)
        self.cut_gaps = []  # per image: min over levels of the score gap at the nms_pre cut
        self.score_thr, self.nms_pre = SCORE_THR, NMS_PRE
        model.backbone.register_forward_pre_hook(self._input)
        model.neck.register_forward_hook(self._neck)
        _on_head_forward(model.bbox_head, self._head)

    def _input(self, module, args):
        if self.active:
            self.summary("input", args[0], self.rec)

    def _neck(self, module, args, out):
        if self.active:
            for i, t in enumerate(out):
                self.summary(f"neck/{i}", t, self.rec)

    def _head(self, module, args, out):
        import torch

        names = ("cls_score", "bbox_pred", "centerness")[:len(out)]
        margin, gap = float("inf"), float("inf")
        for cls_score in out[0]:
            scores = cls_score[0].permute(1, 2, 0).reshape(-1).sigmoid().double()
            margin = min(margin, float((scores - self.score_thr).abs().min()))
            valid = scores[scores > self.score_thr]
            if valid.numel() > self.nms_pre:
                top = torch.sort(valid, descending=True).values
                gap = min(gap, float(top[self.nms_pre - 1] - top[self.nms_pre]))
        self.margins.append(margin)
        self.cut_gaps.append(gap)
        if self.active:
            for name, levels in zip(names, out):
                for level, t in enumerate(levels):
                    if level in FULL_LEVELS:
                        self.rec[f"head/{name}/{level}"] = t.detach().cpu().numpy().astype(
                            np.float32)
                    else:
                        self.summary(f"head/{name}/{level}", t, self.rec)


def _candidates(model, img_path, rec):
    """Image 0's candidates before NMS (``with_nms=False``), as ``simple_test`` would pass."""
    import torch
    from mmcv.parallel import collate, scatter  # noqa: F401
    from mmdet.datasets import replace_ImageToTensor
    from mmdet.datasets.pipelines import Compose

    cfg = model.cfg.copy()
    cfg.data.test.pipeline = replace_ImageToTensor(cfg.data.test.pipeline)
    data = Compose(cfg.data.test.pipeline)(dict(img_info=dict(filename=str(img_path)),
                                                img_prefix=None))
    data = collate([data], samples_per_gpu=1)
    img = data["img"][0].data[0]
    metas = data["img_metas"][0].data[0]
    for m in metas:
        m["batch_input_shape"] = tuple(img.shape[-2:])
    with torch.no_grad():
        outs = model.bbox_head(model.extract_feat(img))
        bboxes, scores, labels = model.bbox_head.get_bboxes(
            *outs, img_metas=metas, rescale=True, with_nms=False)[0]
    order = torch.argsort(scores, descending=True, stable=True)
    rec["cand/num"] = np.array(int(scores.numel()))
    rec["cand/first"] = torch.cat([bboxes[order], scores[order, None],
                                   labels[order, None].to(bboxes)], 1)[:N_ROWS].numpy()
    return metas[0]


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
    recorder = Recorder(model, base._summary)
    npz, summary_images = {}, []
    with torch.no_grad():
        for i, path in enumerate(images):
            recorder.active = i == 0
            result = inference_detector(model, str(path))
            recorder.active = False
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
                file=f"../mmdet_reference/images/{path.name}",
                ori_shape=list(meta["ori_shape"]), img_shape=list(meta["img_shape"]),
                pad_shape=list(meta["pad_shape"]),
                scale_factor=[float(x) for x in meta["scale_factor"]],
                num_dets_per_class=counts, num_dets=int(sum(counts)),
                min_score=float(scores.min()) if scores.size else None,
                max_score=float(scores.max()) if scores.size else None,
                min_abs_margin_to_score_thr=recorder.margins[-1],
                min_score_gap_at_nms_pre_cut=(recorder.cut_gaps[-1]
                                              if np.isfinite(recorder.cut_gaps[-1]) else None)))
    for k, v in recorder.rec.items():
        npz[f"inter/{k}"] = v
    # the same images with an active nms_pre cut
    default_cfg = dict(model.bbox_head.test_cfg)
    model.bbox_head.test_cfg.update(CUT_CFG)
    recorder.score_thr, recorder.nms_pre = CUT_CFG["score_thr"], CUT_CFG["nms_pre"]
    with torch.no_grad():
        for i, path in enumerate(images):
            result = inference_detector(model, str(path))
            for c, dets in enumerate(result):
                npz[f"det_cut/{i}/{c}"] = dets.astype(np.float32)
            summary_images[i]["cut"] = dict(
                test_cfg=CUT_CFG, num_dets_per_class=[int(d.shape[0]) for d in result],
                min_abs_margin_to_score_thr=recorder.margins[-1],
                min_score_gap_at_nms_pre_cut=recorder.cut_gaps[-1])
    model.bbox_head.test_cfg.update(default_cfg)
    cand = {}
    _candidates(model, images[0], cand)
    for k, v in cand.items():
        npz[f"inter/{k}"] = v
    base.save_npz(HERE / f"reference_{name}.npz", npz)
    stability = _stability(model, weights, images, npz, base)
    summary = dict(config=str(cfg_path.relative_to(HERE)), seed=cw.DEFAULT_SEED,
                   images=summary_images, stability=stability, versions=base._versions())
    (HERE / f"reference_{name}.json").write_text(base.dumps_json(summary))
    return summary


def _stability(model, weights, images, npz, base):
    """How far results move under small changes (how tight parity can be):
    weights times ``1 + eps N(0, 1)``, a float64 run, and mmcv's ``nms`` / modulated deformable
    conv swapped for torchvision's ``nms`` / ``deform_conv2d`` (with mmcv's reading of an
    offset map larger than the output, as detbox does)."""
    import mmcv.ops  # noqa: F401
    import torch
    import torchvision

    out = {}
    for eps in (1e-7, 1e-6):
        rng = np.random.RandomState(123)
        noisy = {k: (v * (1 + eps * torch.from_numpy(rng.standard_normal(tuple(v.shape)))
                          .to(v.dtype)) if v.is_floating_point() else v)
                 for k, v in weights.items()}
        model.load_state_dict(noisy, strict=True)
        out[f"weights_rel_{eps:g}"] = base._rerun(model, images, npz)
    model.load_state_dict(weights, strict=True)

    def tv_nms(boxes, scores, iou_threshold, offset=0, score_threshold=0, max_num=-1):
        assert offset == 0 and score_threshold == 0 and max_num == -1
        inds = torchvision.ops.nms(boxes, scores, float(iou_threshold))
        return torch.cat([boxes[inds], scores[inds, None]], 1), inds

    def tv_mdcn(x, offset, mask, weight, bias=None, stride=1, padding=0, dilation=1,
                groups=1, deform_groups=1):
        from torch.nn.modules.utils import _pair

        stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
        kh, kw = weight.shape[-2:]
        size = [(x.shape[2 + d] + 2 * padding[d] - (dilation[d] * ((kh, kw)[d] - 1) + 1))
                // stride[d] + 1 for d in range(2)]

        def as_read(t):
            if list(t.shape[-2:]) == size:
                return t
            n = t.shape[1] * size[0] * size[1]
            return t.reshape(t.shape[0], -1)[:, :n].reshape(t.shape[0], t.shape[1], *size)

        return torchvision.ops.deform_conv2d(x.type_as(offset), as_read(offset), weight,
                                             bias=bias, stride=stride, padding=padding,
                                             dilation=dilation, mask=as_read(mask))

    mmcv_nms = sys.modules["mmcv.ops.nms"]
    mdcn_mod = sys.modules["mmcv.ops.modulated_deform_conv"]
    orig_nms, orig_mdcn = mmcv_nms.nms, mdcn_mod.modulated_deform_conv2d
    try:
        mmcv_nms.nms = tv_nms
        out["torchvision_nms"] = base._rerun(model, images, npz)
        mdcn_mod.modulated_deform_conv2d = tv_mdcn
        dyhead = sys.modules.get("mmdet.models.necks.dyhead")
        if dyhead is not None and any("dyhead" in n for n, _ in model.named_modules()):
            out["torchvision_nms_and_deform_conv2d"] = base._rerun(model, images, npz)
    finally:
        mmcv_nms.nms = orig_nms
        mdcn_mod.modulated_deform_conv2d = orig_mdcn
    return out


def calibrate(name, cfg_path, images, cw, quantile):
    """Print the classifier-bias shift putting the ``quantile`` of all class logits at
    logit(0.05), with the current SHIFTS removed for that key."""
    import torch
    from mmdet.apis import inference_detector, init_detector

    model = init_detector(str(cfg_path), None, device="cpu")
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    weights = cw.generate_state_dict(shapes, cw.DEFAULT_SEED, None, cfg_path.stem)
    key = next(k for k in shapes if k.endswith("_cls.bias"))
    current = cw._first(cw.MODEL_SHIFTS.get(cfg_path.stem, ()) + cw.SHIFTS, key) or 0.0
    weights[key] -= current
    model.load_state_dict(weights, strict=True)
    logits = []
    _on_head_forward(model.bbox_head, lambda m, a, out: logits.extend(
        c.permute(0, 2, 3, 1).reshape(-1) for c in out[0]))
    with torch.no_grad():
        for path in images:
            inference_detector(model, str(path))
    values = torch.cat(logits).double()
    target = float(np.log(SCORE_THR / (1 - SCORE_THR)))
    shift = target - float(torch.quantile(values, quantile))
    print(f"{name}: {key} shift {shift:.2f} (logit mean {values.mean():.2f}, "
          f"std {values.std():.2f})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--calibrate", type=float, metavar="QUANTILE",
                        help="only print classifier-bias shifts (README.md: 0.999)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    cw = _load("calibrated_weights_one_stage", HERE / "calibrated_weights.py")
    base = _base()
    images = sorted(IMAGES.glob("img*.png"))
    if args.calibrate:
        for name in args.models:
            calibrate(name, HERE / MODELS[name], images, cw, args.calibrate)
        return
    for name in args.models:
        summary = run_model(name, HERE / MODELS[name], images, cw, base)
        counts = [im["num_dets"] for im in summary["images"]]
        margins = [round(im["min_abs_margin_to_score_thr"], 7) for im in summary["images"]]
        print(f"{name}: detections per image {counts}, min |score - thr| {margins}",
              file=sys.stderr)
        for check, rows in summary["stability"].items():
            print(f"  {check}: {rows}", file=sys.stderr)


if __name__ == "__main__":
    main()
