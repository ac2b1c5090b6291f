"""Make the MMDetection 2.28.2 reference outputs for detbox's Faster / Cascade R-CNN parity.

Run with a side venv that has real mmcv-full 1.7.x (compiled CPU ops) and mmdet 2.28.2,
never with detbox's own venv (see README.md for how that venv is built)::

    /tmp/mmfull/bin/python tests/data/mmdet_reference/make_reference.py

For each model in ``configs/`` it:

1. builds the model with MMDetection (``init_detector``, no checkpoint, CPU);
2. writes ``keys_<name>.json`` (state_dict keys, shapes, dtypes, seed);
3. loads the calibrated weights of ``calibrated_weights.py`` (strict);
4. runs ``inference_detector`` one image at a time on ``images/*.png`` (rescale=True);
5. records intermediate tensors for image 0 (input, backbone, FPN, RPN head outputs,
   proposals, RoI head outputs);
6. writes ``reference_<name>.npz`` and ``reference_<name>.json`` (summary).

The synthetic images are (re)generated first, from NumPy with a fixed seed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS = {
    "faster": "configs/faster_rcnn_r18_fpn_tiny.py",
    "cascade": "configs/cascade_rcnn_r18_fpn_tiny.py",
}
# (width, height) of the synthetic images: an upscale, a portrait and a downscale
# with respect to img_scale (320, 256).
IMAGE_SIZES = ((300, 200), (250, 330), (333, 250))
IMAGE_SEED = 7
N_SAMPLES = 64  # sampled values per summarised tensor
N_ROWS = 50  # rows kept of proposals and RoI head outputs
SCORE_THR = 0.05


def _load_weights_module():
    spec = importlib.util.spec_from_file_location(
        "calibrated_weights", HERE / "calibrated_weights.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --------------------------------------------------------------------------- images
def _ellipse_mask(h, w, cy, cx, ry, rx):
    yy, xx = np.mgrid[0:h, 0:w]
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0


def make_image(width, height, rng):
    """A smooth-noise background with a few filled rectangles and ellipses (RGB uint8)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    base = np.stack(
        [
            80 + 60 * np.sin(xx / 37.0 + rng.uniform(0, 6)) * np.cos(yy / 29.0),
            100 + 50 * np.cos(xx / 23.0) * np.sin(yy / 41.0 + rng.uniform(0, 6)),
            90 + 40 * np.sin((xx + yy) / 31.0 + rng.uniform(0, 6)),
        ],
        axis=-1,
    )
    img = base + rng.randint(-12, 13, size=base.shape)
    palette = [(230, 40, 40), (40, 200, 60), (50, 70, 230), (240, 220, 50), (250, 250, 250)]
    for k in range(7):
        color = np.array(palette[rng.randint(len(palette))], dtype=np.float64)
        bw = rng.randint(width // 8, width // 2)
        bh = rng.randint(height // 8, height // 2)
        x0 = rng.randint(0, width - bw)
        y0 = rng.randint(0, height - bh)
        if k % 2 == 0:
            img[y0 : y0 + bh, x0 : x0 + bw] = color
        else:
            mask = _ellipse_mask(height, width, y0 + bh / 2, x0 + bw / 2, bh / 2, bw / 2)
            img[mask] = color
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def write_images(out_dir):
    import cv2

    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(IMAGE_SEED)
    paths = []
    for i, (w, h) in enumerate(IMAGE_SIZES):
        rgb = make_image(w, h, rng)
        path = out_dir / f"img{i}_{w}x{h}.png"
        cv2.imwrite(str(path), rgb[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- recording
def _summary(prefix, t, rec):
    a = t.detach().double().cpu().numpy()
    flat = a.reshape(-1)
    idx = np.linspace(0, flat.size - 1, N_SAMPLES).round().astype(np.int64)
    rec[f"{prefix}/shape"] = np.array(a.shape, dtype=np.int64)
    rec[f"{prefix}/stats"] = np.array(
        [flat.sum(), flat.mean(), flat.std(), flat.min(), flat.max(), np.abs(flat).sum()]
    )
    rec[f"{prefix}/sample_idx"] = idx
    rec[f"{prefix}/samples"] = flat[idx].astype(np.float32)


class Recorder:
    """Hooks that capture intermediate tensors of one forward pass."""

    def __init__(self, model):
        self.model = model
        self.rec = {}
        self.active = False
        self.margins = []  # per get_bboxes call: min |softmax score - score_thr|
        self.num_above = []
        self._handles = []
        self._install()

    def _install(self):
        import torch

        m = self.model
        self._handles.append(m.backbone.register_forward_hook(self._backbone))
        self._handles.append(m.neck.register_forward_hook(self._neck))
        self._handles.append(m.rpn_head.register_forward_hook(self._rpn))
        self._handles.append(m.backbone.register_forward_pre_hook(self._input))
        rpn = m.rpn_head
        orig_get = rpn.get_bboxes

        def rpn_get_bboxes(*args, **kwargs):
            out = orig_get(*args, **kwargs)
            if self.active:
                props = out[0].detach().cpu().numpy().astype(np.float32)
                self.rec["proposals/num"] = np.array(props.shape[0])
                self.rec["proposals/first"] = props[:N_ROWS]
                _summary("proposals/all", out[0], self.rec)
            return out

        rpn.get_bboxes = rpn_get_bboxes
        heads = m.roi_head.bbox_head
        heads = list(heads) if isinstance(heads, torch.nn.ModuleList) else [heads]
        for stage, head in enumerate(heads):
            self._handles.append(head.register_forward_hook(self._make_roi_hook(stage)))
        extractors = m.roi_head.bbox_roi_extractor
        if not isinstance(extractors, torch.nn.ModuleList):
            extractors = [extractors]
        for stage, ext in enumerate(extractors):
            self._handles.append(ext.register_forward_pre_hook(self._make_rois_hook(stage)))
        last = heads[-1]
        orig_bb = last.get_bboxes

        def roi_get_bboxes(rois, cls_score, bbox_pred, *args, **kwargs):
            probs = cls_score.softmax(-1)[:, :-1].detach().double().cpu().numpy()
            self.margins.append(float(np.abs(probs - SCORE_THR).min()))
            self.num_above.append(int((probs > SCORE_THR).sum()))
            if self.active:
                self.rec["roi_post/rois_first"] = (
                    rois[:N_ROWS].detach().cpu().numpy().astype(np.float32)
                )
                self.rec["roi_post/cls_score_first"] = (
                    cls_score[:N_ROWS].detach().cpu().numpy().astype(np.float32)
                )
                self.rec["roi_post/bbox_pred_first"] = (
                    bbox_pred[:N_ROWS].detach().cpu().numpy().astype(np.float32)
                )
                self.rec["roi_post/num_above_thr"] = np.array(self.num_above[-1])
            return orig_bb(rois, cls_score, bbox_pred, *args, **kwargs)

        last.get_bboxes = roi_get_bboxes

    def _input(self, module, args):
        if self.active:
            _summary("input", args[0], self.rec)

    def _backbone(self, module, args, out):
        if self.active:
            for i, t in enumerate(out):
                _summary(f"backbone/{i}", t, self.rec)

    def _neck(self, module, args, out):
        if self.active:
            for i, t in enumerate(out):
                _summary(f"neck/{i}", t, self.rec)

    def _rpn(self, module, args, out):
        if self.active:
            cls_scores, bbox_preds = out
            for i, (c, r) in enumerate(zip(cls_scores, bbox_preds)):
                self.rec[f"rpn_cls/{i}"] = c.detach().cpu().numpy().astype(np.float32)
                self.rec[f"rpn_reg/{i}"] = r.detach().cpu().numpy().astype(np.float32)

    def _make_rois_hook(self, stage):
        def hook(module, args):
            if self.active:
                rois = args[1]
                self.rec[f"roi_head/{stage}/num_rois"] = np.array(rois.shape[0])
                self.rec[f"roi_head/{stage}/rois_first"] = (
                    rois[:N_ROWS].detach().cpu().numpy().astype(np.float32)
                )

        return hook

    def _make_roi_hook(self, stage):
        def hook(module, args, out):
            if self.active:
                cls_score, bbox_pred = out
                self.rec[f"roi_head/{stage}/cls_score_first"] = (
                    cls_score[:N_ROWS].detach().cpu().numpy().astype(np.float32)
                )
                self.rec[f"roi_head/{stage}/bbox_pred_first"] = (
                    bbox_pred[:N_ROWS].detach().cpu().numpy().astype(np.float32)
                )
                _summary(f"roi_head/{stage}/cls_score", cls_score, self.rec)
                _summary(f"roi_head/{stage}/bbox_pred", bbox_pred, self.rec)

        return hook


# --------------------------------------------------------------------------- output
def save_npz(path, arrays):
    """Like ``np.savez_compressed`` but byte-reproducible (fixed member timestamps)."""
    import io
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def dumps_json(obj):
    """Indented JSON with innermost lists kept on one line."""
    text = json.dumps(obj, indent=1)
    text = re.sub(
        r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text
    )
    return text + "\n"


# --------------------------------------------------------------------------- main
def _meta_of(model, img_path):
    """Image meta (shapes, scale factor) as the test pipeline makes it."""
    from mmcv.parallel import collate
    from mmdet.datasets import replace_ImageToTensor
    from mmdet.datasets.pipelines import Compose

    cfg = model.cfg.copy()
    cfg.data.test.pipeline = replace_ImageToTensor(cfg.data.test.pipeline)
    data = Compose(cfg.data.test.pipeline)(
        dict(img_info=dict(filename=str(img_path)), img_prefix=None)
    )
    data = collate([data], samples_per_gpu=1)
    return data["img_metas"][0].data[0][0]


def run_model(name, cfg_path, images, seed, cw):
    import torch
    from mmdet.apis import inference_detector, init_detector

    model = init_detector(str(cfg_path), None, device="cpu")
    sd = model.state_dict()
    keys = [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()]
    lines = ",\n".join("  " + json.dumps(k) for k in keys)
    (HERE / f"keys_{name}.json").write_text(
        f'{{"config": "{cfg_path.relative_to(HERE)}", "seed": {seed}, "keys": [\n{lines}\n]}}\n'
    )
    weights = cw.generate_state_dict({k: s for k, s, _ in keys}, seed, {k: d for k, _, d in keys})
    model.load_state_dict(weights, strict=True)
    model.eval()

    recorder = Recorder(model)
    npz = {}
    summary_images = []
    with torch.no_grad():
        for i, path in enumerate(images):
            recorder.active = i == 0
            result = inference_detector(model, str(path))
            recorder.active = False
            meta = _meta_of(model, path)
            counts = []
            for c, dets in enumerate(result):
                npz[f"det/{i}/{c}"] = dets.astype(np.float32)
                counts.append(int(dets.shape[0]))
            for key in ("ori_shape", "img_shape", "pad_shape"):
                npz[f"meta/{i}/{key}"] = np.array(meta[key], dtype=np.int64)
            npz[f"meta/{i}/scale_factor"] = np.asarray(meta["scale_factor"], dtype=np.float32)
            scores = np.concatenate([d[:, 4] for d in result])
            summary_images.append(
                dict(
                    file=f"images/{path.name}",
                    ori_shape=list(meta["ori_shape"]),
                    img_shape=list(meta["img_shape"]),
                    pad_shape=list(meta["pad_shape"]),
                    scale_factor=[float(x) for x in meta["scale_factor"]],
                    num_dets_per_class=counts,
                    num_dets=int(sum(counts)),
                    min_score=float(scores.min()) if scores.size else None,
                    max_score=float(scores.max()) if scores.size else None,
                    candidates_above_score_thr=recorder.num_above[-1],
                    min_abs_margin_to_score_thr=recorder.margins[-1],
                )
            )
    for k, v in recorder.rec.items():
        npz[f"inter/{k}"] = v
    save_npz(HERE / f"reference_{name}.npz", npz)
    stability = _stability(model, weights, images, npz)
    summary = dict(
        config=str(cfg_path.relative_to(HERE)),
        seed=seed,
        images=summary_images,
        stability=stability,
        versions=_versions(),
    )
    (HERE / f"reference_{name}.json").write_text(dumps_json(summary))
    return summary


def _compare(result, npz, i):
    """Difference of one image's result from the recorded one."""
    same = all(d.shape[0] == npz[f"det/{i}/{c}"].shape[0] for c, d in enumerate(result))
    if not same:
        return dict(same_counts=False, counts=[int(d.shape[0]) for d in result])
    box, score = 0.0, 0.0
    for c, dets in enumerate(result):
        ref = npz[f"det/{i}/{c}"]
        if ref.size:
            box = max(box, float(np.abs(dets[:, :4] - ref[:, :4]).max()))
            score = max(score, float((np.abs(dets[:, 4] - ref[:, 4]) / ref[:, 4]).max()))
    return dict(same_counts=True, max_abs_box_diff_px=box, max_rel_score_diff=score)


def _rerun(model, images, npz):
    import torch
    from mmdet.apis import inference_detector

    with torch.no_grad():
        return [_compare(inference_detector(model, str(p)), npz, i) for i, p in enumerate(images)]


def _stability(model, weights, images, npz):
    """How far the results move under small changes (a guide to how tight parity can be).

    * ``weights_rel_1e-7`` / ``weights_rel_1e-6``: every float weight times ``1 + eps * N(0, 1)``.
    * ``torchvision_ops``: mmcv's RoIAlign and nms swapped for torchvision.ops ``roi_align``
      (aligned=True) and ``nms`` (what a pure-PyTorch reimplementation would use).
    """
    import mmcv.ops  # noqa: F401  (the submodule mmcv.ops.nms is shadowed by the function)
    import torch
    import torchvision
    from mmcv.ops import RoIAlign

    out = {}
    for eps in (1e-7, 1e-6):
        rng = np.random.RandomState(123)
        noisy = {}
        for k, v in weights.items():
            if v.is_floating_point():
                noise = torch.from_numpy(rng.standard_normal(tuple(v.shape))).to(v.dtype)
                noisy[k] = v * (1 + eps * noise)
            else:
                noisy[k] = v
        model.load_state_dict(noisy, strict=True)
        out[f"weights_rel_{eps:g}"] = _rerun(model, images, npz)
    model.load_state_dict(weights, strict=True)

    def tv_nms(boxes, scores, iou_threshold, offset=0, score_threshold=0, max_num=-1):
        assert offset == 0 and score_threshold == 0 and max_num == -1
        inds = torchvision.ops.nms(boxes, scores, float(iou_threshold))
        return torch.cat([boxes[inds], scores[inds, None]], 1), inds

    mmcv_nms = sys.modules["mmcv.ops.nms"]
    aligns = [m for m in model.modules() if isinstance(m, RoIAlign)]
    orig_nms = mmcv_nms.nms
    try:
        mmcv_nms.nms = tv_nms
        for m in aligns:
            m.use_torchvision = True
        out["torchvision_ops"] = _rerun(model, images, npz)
    finally:
        mmcv_nms.nms = orig_nms
        for m in aligns:
            m.use_torchvision = False
    return out


def calibrate(name, cfg_path, images, seed, cw, bg):
    """Print CLS_BIAS_SHIFT entries: class logits centred, background ``bg`` above them.

    The weights are drawn without any CLS_BIAS_SHIFT (so with BG_BIAS), every RoI classifier's
    logits are collected over all RoIs of all images, and the shift is ``-mean`` per logit plus
    ``BG_BIAS + bg`` on the background. The RoI classifier biases change neither the proposals
    nor (class-agnostic or per-class) the regressed boxes, so one pass is enough.
    """
    import torch
    from mmdet.apis import inference_detector, init_detector

    model = init_detector(str(cfg_path), None, device="cpu")
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    saved = dict(cw.CLS_BIAS_SHIFT)
    cw.CLS_BIAS_SHIFT.clear()
    try:
        model.load_state_dict(cw.generate_state_dict(shapes, seed), strict=True)
    finally:
        cw.CLS_BIAS_SHIFT.update(saved)
    heads = model.roi_head.bbox_head
    heads = list(heads) if isinstance(heads, torch.nn.ModuleList) else [heads]
    logits = [[] for _ in heads]
    for stage, head in enumerate(heads):
        head.register_forward_hook(lambda m, a, out, s=stage: logits[s].append(out[0]))
    with torch.no_grad():
        for path in images:
            inference_detector(model, str(path))
    names = sorted(k for k in shapes if k.endswith("fc_cls.bias"))
    for key, per_stage in zip(names, logits):
        mean = torch.cat(per_stage).double().mean(0).numpy()
        shift = -mean
        shift[-1] += cw.BG_BIAS + bg
        print(f'    "{key}": ({", ".join(str(round(float(x), 2)) for x in shift)}),')


def _versions():
    import cv2
    import mmcv
    import mmdet
    import torch
    from mmcv.ops import get_compiler_version, get_compiling_cuda_version

    return dict(
        python=platform.python_version(),
        torch=torch.__version__,
        mmcv=mmcv.__version__,
        mmdet=mmdet.__version__,
        numpy=np.__version__,
        opencv=cv2.__version__,
        mmcv_compiler=get_compiler_version(),
        mmcv_cuda=get_compiling_cuda_version(),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument(
        "--calibrate",
        type=float,
        nargs="+",
        metavar="BG",
        help="only print CLS_BIAS_SHIFT entries, with this background margin "
        "per model (README.md: 6 for faster, 7 for cascade)",
    )
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    cw = _load_weights_module()
    images = write_images(HERE / "images")
    if args.calibrate:
        for name, bg in zip(args.models, args.calibrate):
            calibrate(name, HERE / MODELS[name], images, cw.DEFAULT_SEED, cw, bg)
        return
    for name in args.models:
        summary = run_model(name, HERE / MODELS[name], images, cw.DEFAULT_SEED, cw)
        counts = [im["num_dets"] for im in summary["images"]]
        margins = [round(im["min_abs_margin_to_score_thr"], 6) for im in summary["images"]]
        print(
            f"{name}: detections per image {counts}, min |score - thr| {margins}", file=sys.stderr
        )
        for check, rows in summary["stability"].items():
            print(f"  {check}: {rows}", file=sys.stderr)


if __name__ == "__main__":
    main()
