"""Make the MMDetection 2.28.2 reference outputs for detbox's Guided Anchoring.

Run with the side venv (real mmcv-full 1.7.x with compiled CPU ops, mmdet 2.28.2), never with
detbox's own venv::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_ga/make_reference.py [--calibrate]

For each model of ``MODELS`` (GA-RetinaNet, GA Faster R-CNN with ``GARPNHead``):

1. one training step (``train/...``: the batch of ``../mmdet_reference_dense2/make_reference.py``,
   images 0 and 1 through the test pipeline with its ``TRAIN_GT``; fresh calibrated weights):
   every loss of the loss dict summed over levels (float64) and the total ``loss``;
2. inference (``init_detector``, calibrated weights, ``inference_detector`` one image at a
   time on ``../mmdet_reference/images/*.png``): ``det/{i}/{c}``; the same with an active
   per-level ``nms_pre`` cut (``det_cut/...``); image 0's head outputs
   (``inter/head/{cls_score,bbox_pred,shape_pred,loc_pred}/{l}``) and, for the GA-RPN, its
   proposals (``inter/proposals``, ``simple_test_rpn``);
3. a stability check (weights times ``1 + 1e-6 N(0, 1)``: how far boxes and scores move).

mmcv 1.7.2 has no CPU kernel for ``MaskedConv2d`` (``masked_im2col_forward_impl: implementation
for device cpu not found``). The script swaps in what mmcv's own NPU branch computes: the full
convolution with the outputs outside the mask set to zero (``output * mask``), which is the
definition of the masked convolution (mmcv's im2col path computes the same numbers at the mask's
positions and leaves zeros elsewhere).

``--calibrate`` prints, per model, the location-bias shift that puts the median location logit
(all locations of the 3 images) at ``logit(loc_filter_thr)``, and the classifier shift (GA-
RetinaNet: per class, a quantile of the class logits of the kept locations at logit(0.05);
Faster: the
class logits of the RoIs centred, the background ``BG_MARGIN`` above).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
IMAGES = sorted((HERE.parent / "mmdet_reference" / "images").glob("img*.png"))
MODELS = {
    "ga_retinanet": "configs/ga_retinanet_r18_fpn_tiny.py",
    "ga_faster": "configs/ga_faster_r18_fpn_tiny.py",
}
FULL_LEVELS = (2, 3, 4)  # head outputs stored in full on these levels, summarised on the others
CUT = {"ga_retinanet": ("bbox_head", dict(nms_pre=30, score_thr=0.02)),
       "ga_faster": ("rpn_head", dict(nms_pre=40, nms_post=30, max_per_img=60))}
N_ROWS = 50
CLS_QUANTILE = 0.99
BG_MARGIN = 4.5


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def patch_masked_conv():
    """Give mmcv's ``MaskedConv2d`` a CPU path: conv, then zero outside the mask."""
    import torch.nn.functional as F
    from mmcv.ops import masked_conv

    def masked_conv2d(features, mask, weight, bias, padding=0, stride=1):
        if mask.dim() != 3 or mask.size(0) != 1 or features.size(0) != 1:
            raise AssertionError("mmcv's masked_conv2d takes one image")
        out = F.conv2d(features, weight, bias, stride=stride, padding=padding)
        return out * (mask > 0).to(out.dtype)[:, None]

    masked_conv.masked_conv2d = masked_conv2d


def _head(model):
    return model.rpn_head if hasattr(model, "rpn_head") else model.bbox_head


def _record_head(model, rec, summary):
    """Wrap the GA head's ``forward`` to store image 0's outputs while ``rec['on']``."""
    head = _head(model)
    orig = head.forward
    names = ("cls_score", "bbox_pred", "shape_pred", "loc_pred")

    def forward(*args, **kwargs):
        out = orig(*args, **kwargs)
        if rec.get("on"):
            for name, levels in zip(names, out):
                for level, t in enumerate(levels):
                    key = f"head/{name}/{level}"
                    if level in FULL_LEVELS:
                        rec[key] = t.detach().cpu().numpy().astype(np.float32)
                    else:
                        summary(key, t, rec)
            rec["loc_kept"] = np.array([int((t.sigmoid() >= head.loc_filter_thr).sum())
                                        for t in out[3]])
        return out

    head.forward = forward


def _prepare(model, path):
    from mmcv.parallel import collate
    from mmdet.datasets import replace_ImageToTensor
    from mmdet.datasets.pipelines import Compose

    cfg = model.cfg.copy()
    cfg.data.test.pipeline = replace_ImageToTensor(cfg.data.test.pipeline)
    data = collate([Compose(cfg.data.test.pipeline)(
        dict(img_info=dict(filename=str(path)), img_prefix=None))], samples_per_gpu=1)
    img = data["img"][0].data[0]
    metas = data["img_metas"][0].data[0]
    for m in metas:
        m["batch_input_shape"] = tuple(img.shape[-2:])
    return img, metas


def _detect(model, npz, prefix):
    from mmdet.apis import inference_detector

    counts = []
    for i, path in enumerate(IMAGES):
        result = inference_detector(model, str(path))
        for c, dets in enumerate(result):
            npz[f"{prefix}/{i}/{c}"] = dets.astype(np.float32)
        counts.append([int(d.shape[0]) for d in result])
    return counts


def _max_change(a, b):
    """Largest box (px) and relative score change between two detection sets (same counts)."""
    box, score = 0.0, 0.0
    for key in a:
        if not key.startswith("det/"):
            continue
        if a[key].shape != b[key].shape:
            return None
        if a[key].size:
            box = max(box, float(np.abs(a[key][:, :4] - b[key][:, :4]).max()))
            score = max(score, float((np.abs(a[key][:, 4] - b[key][:, 4]) / a[key][:, 4]).max()))
    return dict(max_box_px=box, max_score_rel=score)


def run_model(name, cfg_path, cw, base):
    import torch
    from mmdet.apis import init_detector

    model = init_detector(str(cfg_path), None, device="cpu")
    keys = [[k, list(v.shape), str(v.dtype).replace("torch.", "")]
            for k, v in model.state_dict().items()]
    lines = ",\n".join("  " + json.dumps(k) for k in keys)
    (HERE / f"keys_{name}.json").write_text(
        f'{{"config": "{cfg_path.relative_to(HERE)}", "seed": {cw.DEFAULT_SEED}, "keys": [\n'
        f"{lines}\n]}}\n")
    weights = cw.generate_state_dict({k: s for k, s, _ in keys}, cw.DEFAULT_SEED,
                                     {k: d for k, _, d in keys}, cfg_path.stem)
    model.load_state_dict(weights, strict=True)
    model.eval()
    rec: dict = {}
    _record_head(model, rec, base._summary)
    npz: dict = {}
    with torch.no_grad():
        img, metas = _prepare(model, IMAGES[0])
        rec["on"] = True
        if hasattr(model, "rpn_head"):
            proposals = model.rpn_head.simple_test_rpn(model.extract_feat(img), metas)[0]
            npz["inter/proposals/num"] = np.array(int(proposals.shape[0]))
            npz["inter/proposals/first"] = proposals[:N_ROWS].numpy()
        else:
            model.bbox_head(model.extract_feat(img))
        rec["on"] = False
        counts = _detect(model, npz, "det")
        head_name, cut = CUT[name]
        saved = dict(getattr(model, head_name).test_cfg)
        getattr(model, head_name).test_cfg.update(cut)
        cut_counts = _detect(model, npz, "det_cut")
        getattr(model, head_name).test_cfg.clear()
        getattr(model, head_name).test_cfg.update(saved)
        for i, path in enumerate(IMAGES):
            meta = base._meta_of(model, path)
            for key in ("ori_shape", "img_shape", "pad_shape"):
                npz[f"meta/{i}/{key}"] = np.array(meta[key], dtype=np.int64)
            npz[f"meta/{i}/scale_factor"] = np.asarray(meta["scale_factor"], dtype=np.float32)
        # stability: slightly perturbed weights
        gen = torch.Generator().manual_seed(0)
        perturbed = {k: v * (1 + 1e-6 * torch.randn(v.shape, generator=gen))
                     if v.is_floating_point() else v for k, v in weights.items()}
        model.load_state_dict(perturbed, strict=True)
        other: dict = {}
        _detect(model, other, "det")
        model.load_state_dict(weights, strict=True)
    for k, v in rec.items():
        if k != "on":
            npz[f"inter/{k}"] = v
    base.save_npz(HERE / f"reference_{name}.npz", npz)
    return dict(config=str(cfg_path.relative_to(HERE)), seed=cw.DEFAULT_SEED,
                num_dets_per_class=counts, cut=dict(test_cfg=cut, num_dets_per_class=cut_counts),
                loc_kept_image0=[int(x) for x in rec["loc_kept"]],
                stability_1e6=_max_change(npz, other), versions=base._versions())


def calibrate(name, cfg_path, cw):
    """Print the shifts of ``calibrated_weights.MODEL_SHIFTS`` (see the module docstring)."""
    import torch
    from mmdet.apis import init_detector

    model = init_detector(str(cfg_path), None, device="cpu")
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    model.load_state_dict(cw.generate_state_dict(shapes, cw.DEFAULT_SEED, None, cfg_path.stem))
    model.eval()
    head = _head(model)
    loc, cls, rois = [], [], []
    with torch.no_grad():
        for path in IMAGES:
            img, metas = _prepare(model, path)
            x = model.extract_feat(img)
            outs = head(x)
            loc += [t.reshape(-1) for t in outs[3]]
            for cls_score, loc_pred in zip(outs[0], outs[3]):
                keep = (loc_pred.sigmoid() >= head.loc_filter_thr)[0, 0]
                cls.append(cls_score[0].permute(1, 2, 0)[keep].reshape(-1, head.cls_out_channels))
            if hasattr(model, "roi_head"):
                from mmdet.core import bbox2roi
                proposals = head.simple_test_rpn(x, metas)
                feats = model.roi_head.bbox_roi_extractor(
                    x[:model.roi_head.bbox_roi_extractor.num_inputs], bbox2roi(proposals))
                rois.append(model.roi_head.bbox_head(feats)[0])
    target = math.log(head.loc_filter_thr / (1 - head.loc_filter_thr))
    print(f"{name}: loc bias shift {target - float(torch.cat(loc).median()):+.2f} "
          "(added to the current one)")
    if rois:
        logits = torch.cat(rois)
        centred = -logits.mean(0)
        centred[-1] += BG_MARGIN
        print(f"  fc_cls.bias shift (added): {[round(float(v), 2) for v in centred]}")
    else:
        q = torch.quantile(torch.cat(cls), CLS_QUANTILE, dim=0)
        print(f"  retina_cls.bias shift per class (added): "
              f"{[round(math.log(0.05 / 0.95) - float(v), 2) for v in q]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    patch_masked_conv()
    cw = _load("calibrated_weights_ga", HERE / "calibrated_weights.py")
    base = _load("make_reference_base", HERE.parent / "mmdet_reference" / "make_reference.py")
    dense2 = _load("make_reference_dense2_for_ga",
                   HERE.parent / "mmdet_reference_dense2" / "make_reference.py")
    for name in args.models:
        cfg_path = HERE / MODELS[name]
        if args.calibrate:
            calibrate(name, cfg_path, cw)
            continue
        losses, batch = dense2.train_step(name, cfg_path, IMAGES, cw)
        summary = run_model(name, cfg_path, cw, base)
        summary["train"] = dict(batch, gt=[dict(bboxes=b, labels=lab)
                                           for b, lab in dense2.TRAIN_GT], losses=losses)
        (HERE / f"reference_{name}.json").write_text(base.dumps_json(summary))
        print(f"{name}: detections {summary['num_dets_per_class']}, with the cut "
              f"{summary['cut']['num_dets_per_class']}, loc kept {summary['loc_kept_image0']}, "
              f"stability {summary['stability_1e6']}, losses {losses}", file=sys.stderr)


if __name__ == "__main__":
    main()
