"""Record real MMDetection 2.28.2 / mmcv-full 1.7.2 outputs of the DCN / Res2Net backbones.

Run with the side venv (``tests/data/side_env/make_side_venv.sh``), never detbox's own::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_dcn/make_reference.py

For each ``configs/<case>.py`` (a backbone ``model``): builds it with MMDetection, loads the
calibrated weights (``calibrated_weights.py``), writes ``keys_<case>.json`` (state_dict keys,
shapes, dtypes in order, seed) and, in ``reference_<case>.npz``:

* ``out/<i>/{sample,norm,proj}``: stage output ``i`` (eval mode) for the input below,
  summarised by ``summarize``: ``SAMPLES`` of its values at indices drawn from
  ``np.random.RandomState(SAMPLE_SEED)``, its L2 norm, and its dot product with a standard
  normal tensor of ``np.random.RandomState(PROJ_SEED)`` (the full tensors would be ~1.4 MB);
* ``grad/input/{sample,norm,proj}``: likewise, the gradient of ``sum_i sum(out_i * g_i)``
  with respect to the input, the ``g_i`` drawn from ``np.random.RandomState(GRAD_SEED)``
  (standard normal, in stage order);
* ``grad/norm``, ``grad/proj``: for every parameter that requires grad (sorted by name, the
  names in ``reference_<case>.json``), its gradient's L2 norm and projection as above.

The input is ``input_batch()``: the top-left 96x96 crops of ``../mmdet_reference/images/
img0`` and ``img1`` (RGB, ImageNet mean / std), so nothing but the PNGs is needed. (96 px
keeps the last stage at 3x3: mmcv's ``DeformConv2dPack`` refuses maps smaller than its kernel,
"input image is smaller than kernel"; torchvision's kernel, so detbox, computes them.)
The ``.json`` also holds the versions, per stage max |out|, and per deformable conv the
mean |offset| its ``conv_offset`` predicts (so the sampling is really off the grid).

Then the tiny GFL detector ``configs/gfl_r50_dcnv2_fpn_tiny.py`` (a DCNv2 ResNet-50), exactly as
``../mmdet_reference_gfl_tood_vfnet/make_reference.py`` records its GFL (its functions reused,
writing here): ``keys_gfl_dcnv2.json``, ``reference_gfl_dcnv2.npz`` / ``.json`` with the
detections of the three images (default and active ``nms_pre`` cut), head outputs, stability
checks and one training step's losses (``train_step``). ``--calibrate`` only prints the GFL's
score quantiles (to tune its shift in ``calibrated_weights.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
IMAGES = [HERE.parent / "mmdet_reference" / "images" / n
          for n in ("img0_300x200.png", "img1_250x330.png")]
CASES = ("resnet50_dcn_tiny", "resnet50_caffe_dcnv2_g2_tiny", "resnext50_dcn_g2_tiny",
         "res2net50_tiny", "res2net50_dcnv2_tiny")
CROP = (96, 96)
SAMPLES = 512
SAMPLE_SEED = 13
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])
GRAD_SEED = 11
PROJ_SEED = 12


def input_batch() -> np.ndarray:
    """``float32[2, 3, 96, 96]``: the two crops, RGB, normalised."""
    from PIL import Image

    crops = []
    for path in IMAGES:
        rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)[:CROP[0], :CROP[1]]
        crops.append(((rgb - MEAN) / STD).transpose(2, 0, 1))
    return np.ascontiguousarray(np.stack(crops), dtype=np.float32)


def output_weights(shapes) -> list[np.ndarray]:
    """The ``g_i`` of the backward pass, one per stage output shape."""
    rng = np.random.RandomState(GRAD_SEED)
    return [rng.standard_normal(tuple(s)).astype(np.float32) for s in shapes]


def projections(sizes) -> list[np.ndarray]:
    """One standard normal vector per parameter (``sizes`` in sorted name order)."""
    rng = np.random.RandomState(PROJ_SEED)
    return [rng.standard_normal(int(n)) for n in sizes]


def summarize(arr: np.ndarray) -> dict[str, np.ndarray]:
    """``sample`` (values at seeded indices of the flat array), ``norm`` and ``proj``."""
    flat = np.asarray(arr, dtype=np.float64).ravel()
    idx = np.random.RandomState(SAMPLE_SEED).randint(0, flat.size, SAMPLES)
    vec = np.random.RandomState(PROJ_SEED).standard_normal(flat.size)
    return {"sample": flat[idx], "norm": np.array(np.linalg.norm(flat)),
            "proj": np.array(flat @ vec)}


def run(model, x_np):
    """Stage outputs, input gradient, and ``{name: grad}`` of a backbone in eval mode."""
    import torch

    model.eval()
    x = torch.from_numpy(x_np).requires_grad_()
    outs = model(x)
    gs = output_weights([o.shape for o in outs])
    loss = sum((o * torch.from_numpy(g)).sum() for o, g in zip(outs, gs))
    loss.backward()
    grads = {n: p.grad.detach().double().numpy().ravel()
             for n, p in sorted(model.named_parameters()) if p.requires_grad}
    return [o.detach().numpy() for o in outs], x.grad.numpy(), grads


def grad_summaries(grads):
    names = sorted(grads)
    vecs = projections([grads[n].size for n in names])
    norm = np.array([np.linalg.norm(grads[n]) for n in names])
    proj = np.array([float(grads[n] @ v) for n, v in zip(names, vecs)])
    return names, norm, proj


def record_offsets(model) -> dict[str, float]:
    """Hooks filling ``{deformable conv name: mean |offset|}`` on the next forward."""
    means: dict[str, float] = {}

    def hook(name, modulated):
        def fill(module, inputs, out):
            off = out[:, :out.shape[1] * 2 // 3] if modulated else out  # DCNv2: mask last
            means[name] = float(off.abs().mean())
        return fill

    for name, m in model.named_modules():
        if hasattr(m, "conv_offset"):
            m.conv_offset.register_forward_hook(hook(name, "Modulated" in type(m).__name__))
    return means


def _calibrated():
    spec = importlib.util.spec_from_file_location("dcn_calibrated_weights",
                                                  HERE / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DETECTORS = {"gfl_dcnv2": "configs/gfl_r50_dcnv2_fpn_tiny.py"}


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def detectors(cw, calibrate: bool) -> None:
    """The detector references, with the GFL family's recorder (see the module docstring)."""
    import torch

    torch.set_num_threads(1)
    gtv = _load("make_reference_gfl_tood_vfnet",
                HERE.parent / "mmdet_reference_gfl_tood_vfnet" / "make_reference.py")
    one_stage = _load("make_reference_one_stage",
                      HERE.parent / "mmdet_reference_one_stage" / "make_reference.py")
    gtv.HERE = one_stage.HERE = HERE  # their recorders read and write keys_/reference_ here
    base = one_stage._base()
    images = sorted(one_stage.IMAGES.glob("img*.png"))
    for name, rel in DETECTORS.items():
        cfg_path = HERE / rel
        if calibrate:
            gtv.calibrate(name, cfg_path, images, cw, one_stage)
            continue
        summary = one_stage.run_model(name, cfg_path, images, cw, base)
        summary["train_step"] = gtv.run_losses(name, cfg_path, images, cw)
        (HERE / f"reference_{name}.json").write_text(base.dumps_json(summary))
        print(f"{name}: detections per image {[im['num_dets'] for im in summary['images']]}; "
              f"losses {summary['train_step']['steps']}", file=sys.stderr)
        for check, rows in summary["stability"].items():
            print(f"  {check}: {rows}", file=sys.stderr)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--only", choices=("backbones", "detectors"))
    args = parser.parse_args(argv)
    cw = _calibrated()
    if args.only != "backbones":
        detectors(cw, args.calibrate)
    if args.calibrate or args.only == "detectors":
        return
    backbones(cw)


def backbones(cw) -> None:
    import mmcv
    import mmdet
    import torch
    from mmcv import Config
    from mmdet.models import build_backbone

    x = input_batch()
    for case in CASES:
        cfg_path = HERE / "configs" / f"{case}.py"
        model = build_backbone(Config.fromfile(str(cfg_path)).model)
        sd = model.state_dict()
        keys = [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()]
        (HERE / f"keys_{case}.json").write_text(json.dumps(
            {"config": f"configs/{case}.py", "seed": cw.DEFAULT_SEED, "keys": keys}, indent=0))
        model.load_state_dict(cw.state_dict_from_keys_json(HERE / f"keys_{case}.json"),
                              strict=True)
        offset_abs = record_offsets(model)
        outs, grad_x, grads = run(model, x)
        names, norm, proj = grad_summaries(grads)
        arrays = {f"out/{i}/{k}": v for i, o in enumerate(outs) for k, v in summarize(o).items()}
        arrays.update({f"grad/input/{k}": v for k, v in summarize(grad_x).items()})
        arrays.update({"grad/norm": norm, "grad/proj": proj})
        np.savez_compressed(HERE / f"reference_{case}.npz", **arrays)
        summary = {
            "case": case, "grad_names": names, "offset_abs_mean": offset_abs,
            "out_shapes": [list(o.shape) for o in outs],
            "out_max_abs": [float(np.abs(o).max()) for o in outs],
            "grad_input_max_abs": float(np.abs(grad_x).max()),
            "versions": {"mmdet": mmdet.__version__, "mmcv": mmcv.__version__,
                         "torch": torch.__version__},
        }
        (HERE / f"reference_{case}.json").write_text(json.dumps(summary, indent=1))
        print(case, summary["out_shapes"], summary["out_max_abs"], offset_abs, file=sys.stderr)


if __name__ == "__main__":
    main()
