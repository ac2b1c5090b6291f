"""Make the MMDetection 2.28.2 reference outputs for detbox's FSAF, YOLOF, PAA and RepPoints.

Run with the side venv (real mmcv-full 1.7.x with compiled CPU ops, mmdet 2.28.2,
scikit-learn for PAA), never with detbox's own venv::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_dense2/make_reference.py

Inference is recorded exactly as for ``../mmdet_reference_one_stage/`` (its
``make_reference.py`` is loaded and pointed at this folder: ``keys_<name>.json``,
``reference_<name>.npz`` / ``.json`` with detections, detections under an active ``nms_pre``
cut, image 0's neck and head outputs, candidates before NMS, stability checks). Added here:

* ``train/...`` in the npz and ``"train"`` in the JSON: one training step's losses. The
  batch is images 0 and 1 through the *test* pipeline (deterministic: resize, normalise, pad
  to 32), zero-padded to a common size, with the ground truths of ``TRAIN_GT`` (boxes in each
  image's ``img_shape`` pixels); the model is in training mode with the calibrated weights
  (fresh, before any inference). Recorded: every entry of the loss dict (summed over levels,
  float64) and the total ``loss`` of ``_parse_losses``.
* ``gmm.json``: scikit-learn's ``GaussianMixture`` results (as PAA calls it) on seeded
  random 1-D samples, for ``tests/models/task_modules/assigners/test_gaussian_mixture.py``.

PAA has no ``with_nms=False`` path, so its candidates before NMS are not recorded.
MMDetection's RepPoints cannot train on a CPU-only machine as it is (its valid flags default to
``device='cuda'``); the script makes that default ``'cpu'``.
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
MODELS = {
    "fsaf": "configs/fsaf_r18_fpn_tiny.py",
    "yolof": "configs/yolof_r18_c5_tiny.py",
    "paa": "configs/paa_r18_fpn_tiny.py",
    "reppoints": "configs/reppoints_moment_r18_fpn_gn-neck+head_tiny.py",
    "reppoints_grid": "configs/bbox_r18_grid_fpn_gn-neck+head_tiny.py",
    "ghm": "configs/retinanet_ghm_r18_fpn_tiny.py",
    "free_anchor": "configs/retinanet_free_anchor_r18_fpn_tiny.py",
    "autoassign": "configs/autoassign_r18_fpn_tiny.py",
    "fovea": "configs/fovea_r18_fpn_tiny.py",
    "fovea_align": "configs/fovea_align_r18_fpn_gn-head_tiny.py",
    "nas_fcos": "configs/nas_fcos_nashead_r18_fpn_gn-head_tiny.py",
    "ddod": "configs/ddod_r18_fpn_tiny.py",
}
# ground truths of the training batch (images 0 and 1), in img_shape pixels, and labels
TRAIN_GT = (
    ([[20.0, 30.0, 120.0, 150.0], [150.0, 40.0, 300.0, 200.0], [60.0, 100.0, 90.0, 130.0],
      [200.0, 10.0, 230.0, 35.0]], [0, 1, 2, 1]),
    ([[10.0, 10.0, 200.0, 300.0], [100.0, 50.0, 150.0, 120.0], [20.0, 200.0, 80.0, 240.0]],
     [2, 0, 1]),
)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _one_stage():
    """The one-stage reference script, writing into this folder."""
    mod = _load("make_reference_one_stage_for_dense2", ONE_STAGE / "make_reference.py")
    mod.HERE = HERE
    mod.MODELS = MODELS
    orig = mod._candidates

    def candidates(model, img_path, rec):
        if type(model.bbox_head).__name__ == "PAAHead":
            return None  # PAA supports with_nms=True only
        return orig(model, img_path, rec)

    mod._candidates = candidates
    return mod


def train_batch(cfg, images):
    """``(img [2, 3, H, W], img_metas, gt_bboxes, gt_labels)`` as described above."""
    import torch
    from mmcv.parallel import collate
    from mmdet.datasets import replace_ImageToTensor
    from mmdet.datasets.pipelines import Compose

    cfg = cfg.copy()
    cfg.data.test.pipeline = replace_ImageToTensor(cfg.data.test.pipeline)
    pipeline = Compose(cfg.data.test.pipeline)
    imgs, metas = [], []
    for path in images[:2]:
        data = collate([pipeline(dict(img_info=dict(filename=str(path)), img_prefix=None))],
                       samples_per_gpu=1)
        imgs.append(data["img"][0].data[0][0])
        metas.append(data["img_metas"][0].data[0][0])
    h = max(i.shape[1] for i in imgs)
    w = max(i.shape[2] for i in imgs)
    batch = torch.zeros(len(imgs), 3, h, w)
    for k, im in enumerate(imgs):
        batch[k, :, :im.shape[1], :im.shape[2]] = im
    gt_bboxes = [torch.tensor(b, dtype=torch.float32) for b, _ in TRAIN_GT]
    gt_labels = [torch.tensor(lab, dtype=torch.long) for _, lab in TRAIN_GT]
    return batch, metas, gt_bboxes, gt_labels


def train_step(name, cfg_path, images, cw):
    """One training step's losses with fresh calibrated weights."""
    from mmcv import Config
    from mmdet.models import build_detector

    cfg = Config.fromfile(str(cfg_path))
    model = build_detector(cfg.model)  # with train_cfg (init_detector drops it)
    model.cfg = cfg
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    dtypes = {k: str(v.dtype).replace("torch.", "") for k, v in model.state_dict().items()}
    model.load_state_dict(cw.generate_state_dict(shapes, cw.DEFAULT_SEED, dtypes,
                                                 cfg_path.stem), strict=True)
    model.train()
    img, metas, gt_bboxes, gt_labels = train_batch(model.cfg, images)
    losses = model.forward_train(img, metas, gt_bboxes, gt_labels)
    total, log_vars = model._parse_losses(losses)
    out = {}
    for key, value in losses.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        out[key] = float(sum(v.double().sum() for v in values))
    out["loss"] = float(total)
    return out, dict(batch_shape=list(img.shape),
                     img_shapes=[list(m["img_shape"]) for m in metas],
                     pad_shapes=[list(m["pad_shape"]) for m in metas])


def gmm_cases(seed=7, n_cases=12):
    """scikit-learn's results on PAA-like samples (sorted losses, two clusters)."""
    import sklearn
    from sklearn.mixture import GaussianMixture

    rng = np.random.RandomState(seed)
    cases = []
    for i in range(n_cases):
        n = int(rng.randint(2, 40))
        low = rng.gamma(2.0, 0.3, size=n // 2 + 1)
        high = rng.gamma(2.0, 0.6, size=n - n // 2 - 1) + rng.uniform(0.5, 3.0)
        x = np.sort(np.concatenate([low, high])).astype(np.float32).reshape(-1, 1)
        cov = ("diag", "full", "spherical", "tied")[i % 4]
        precisions = np.array([1.0, 1.0]).reshape(2, 1, 1)
        if cov == "spherical":
            precisions = precisions.reshape(2)
        elif cov == "diag":
            precisions = precisions.reshape(2, 1)
        elif cov == "tied":
            precisions = np.array([[1.0]])
        gmm = GaussianMixture(2, weights_init=np.array([0.5, 0.5]),
                              means_init=np.array([x.min(), x.max()]).reshape(2, 1),
                              precisions_init=precisions, covariance_type=cov)
        gmm.fit(x)
        cases.append(dict(covariance_type=cov, x=[float(v) for v in x.reshape(-1)],
                          predict=[int(v) for v in gmm.predict(x)],
                          score_samples=[float(v) for v in gmm.score_samples(x)],
                          means=[float(v) for v in gmm.means_.reshape(-1)],
                          weights=[float(v) for v in gmm.weights_], n_iter=int(gmm.n_iter_)))
    return dict(sklearn=sklearn.__version__, seed=seed, cases=cases)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--no-gmm", action="store_true")
    args = parser.parse_args(argv)

    import torch
    from mmdet.core.anchor import point_generator

    # MMDetection's RepPointsHead.get_points asks for valid flags without a device, and
    # MlvlPointGenerator.valid_flags defaults to 'cuda': on a CPU-only machine RepPoints
    # cannot train. Default to 'cpu' instead (the flags do not depend on the device).
    point_generator.MlvlPointGenerator.valid_flags.__defaults__ = ("cpu",)
    torch.set_num_threads(1)
    cw = _load("calibrated_weights_dense2", HERE / "calibrated_weights.py")
    base = _load("make_reference_base", HERE.parent / "mmdet_reference" / "make_reference.py")
    one_stage = _one_stage()
    images = sorted((HERE.parent / "mmdet_reference" / "images").glob("img*.png"))
    for name in args.models:
        cfg_path = HERE / MODELS[name]
        losses, batch = train_step(name, cfg_path, images, cw)
        summary = one_stage.run_model(name, cfg_path, images, cw, base)
        summary["train"] = dict(batch, gt=[dict(bboxes=b, labels=lab) for b, lab in TRAIN_GT],
                                losses=losses)
        (HERE / f"reference_{name}.json").write_text(base.dumps_json(summary))
        counts = [im["num_dets"] for im in summary["images"]]
        cut = [sum(im["cut"]["num_dets_per_class"]) for im in summary["images"]]
        print(f"{name}: detections {counts}, with the cut {cut}, losses {losses}",
              file=sys.stderr)
        for check, rows in summary["stability"].items():
            print(f"  {check}: {rows}", file=sys.stderr)
    if not args.no_gmm:
        (HERE / "gmm.json").write_text(json.dumps(gmm_cases(), indent=1) + "\n")


if __name__ == "__main__":
    main()
