"""Make the MMDetection 2.28.2 reference outputs for detbox's LD and LAD.

Run with the side venv (real mmcv-full 1.7.x with compiled CPU ops, mmdet 2.28.2), never with
detbox's own venv::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_ld/make_reference.py

It works in this folder (the LD config's ``teacher_config='configs/...'`` is relative to the
working directory, as in MMDetection). Per model (``ld``, ``lad``):

1. the student's detections exactly as ``../mmdet_reference_one_stage/make_reference.py``
   makes them (its ``run_model``, writing here): ``keys_<name>.json``,
   ``reference_<name>.npz`` and ``reference_<name>.json`` (the teacher plays no part);
2. the teacher's state_dict keys (``keys_<name>_teacher.json``, seed ``TEACHER_SEED``) and a
   teacher checkpoint ``{meta, state_dict}`` of its calibrated weights, written to a temporary
   folder and loaded by MMDetection through ``teacher_ckpt`` (checked equal after loading);
3. one training step's losses (``train_step`` in the JSON): the model built with its
   ``train_cfg``, the student's calibrated weights, ``model.train()`` (teacher in eval mode),
   ``forward_train`` on the batch of ``../mmdet_reference_gfl_tood_vfnet/make_reference.py``
   (images 0 and 2 through the test pipeline, zero-padded, its fixed ground truths ``GT``);
   plus per-level sums of the teacher's outputs on that batch and, for LAD, the number of
   positives the teacher assigns.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = {
    "ld": "configs/ld_r18_gfl_r18_tiny.py",
    "lad": "configs/lad_r18_paa_r18_tiny.py",
}


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def gfl_maker():
    """The GFL reference script: ``TRAIN_IMAGES``, ``GT``, ``train_batch``, ``loss_values``."""
    return _load("make_reference_gfl_for_ld",
                 HERE.parent / "mmdet_reference_gfl_tood_vfnet" / "make_reference.py")


def _one_stage():
    """The one-stage reference script, writing here; PAA-style heads have no
    ``with_nms=False`` path, so their candidates before NMS are not recorded."""
    mod = _load("make_reference_one_stage_for_ld",
                HERE.parent / "mmdet_reference_one_stage" / "make_reference.py")
    mod.HERE = HERE
    orig = mod._candidates

    def candidates(model, img_path, rec):
        if hasattr(model.bbox_head, "get_label_assignment"):
            return None
        return orig(model, img_path, rec)

    mod._candidates = candidates
    return mod


def teacher_model_name(name):
    """The calibration rule (``calibrated_weights.RULES``) of a model's teacher."""
    return "gfl_r18_fpn_teacher_tiny" if name == "ld" else "lad_r18_paa_r18_tiny_teacher"


def write_keys(path, config, seed, model, state_dict):
    keys = [[k, list(v.shape), str(v.dtype).replace("torch.", "")]
            for k, v in state_dict.items()]
    lines = ",\n".join("  " + json.dumps(k) for k in keys)
    path.write_text(f'{{"config": "{config}", "seed": {seed}, "model": "{model}", "keys": [\n'
                    f"{lines}\n]}}\n")


def teacher_checkpoint(name, cfg_path, cw, folder):
    """Write ``keys_<name>_teacher.json`` and the teacher's checkpoint; return its path."""
    import torch
    from mmcv import Config
    from mmdet.models import build_detector

    cfg = Config.fromfile(str(cfg_path))
    if name == "ld":
        teacher_cfg = cfg.model.teacher_config
        teacher = build_detector(Config.fromfile(teacher_cfg).model)
    else:
        teacher_cfg = str(cfg_path.relative_to(HERE))
        teacher = build_detector(cfg.model).teacher_model
    write_keys(HERE / f"keys_{name}_teacher.json", teacher_cfg, cw.TEACHER_SEED,
               teacher_model_name(name), teacher.state_dict())
    weights = cw.state_dict_from_keys_json(HERE / f"keys_{name}_teacher.json")
    path = Path(folder) / f"{name}_teacher.pth"
    torch.save(dict(meta=dict(note="calibrated random weights"), state_dict=weights), path)
    return path, weights


def run_losses(name, cfg_path, images, cw, maker, ckpt, teacher_weights):
    import torch
    from mmcv import Config
    from mmdet.models import build_detector

    cfg = Config.fromfile(str(cfg_path))
    cfg.model.teacher_ckpt = str(ckpt)
    model = build_detector(cfg.model)
    for key, value in model.teacher_model.state_dict().items():
        assert torch.equal(value, teacher_weights[key]), key  # loaded through teacher_ckpt
    model.load_state_dict(cw.state_dict_from_keys_json(HERE / f"keys_{name}.json"), strict=True)
    model.train()
    assert not model.teacher_model.training
    img, metas = maker.train_batch(maker._samples(cfg, images))
    gt_bboxes, gt_labels = maker.gt_tensors()
    extra = {}
    with torch.no_grad():
        if name == "ld":
            outs = model.teacher_model.bbox_head(model.teacher_model.extract_feat(img))
        else:
            outs = model.teacher_model.bbox_head(model.extract_teacher_feat(img))
            assignment = model.teacher_model.bbox_head.get_label_assignment(
                *outs, gt_bboxes, gt_labels, [dict(m) for m in metas])
            extra["teacher_num_pos"] = int(assignment[6])
            extra["teacher_pos_inds"] = [int(i) for i in assignment[4]]
    extra["teacher_out_sums"] = [[float(t.double().sum()) for t in levels] for levels in outs]
    losses = model.forward_train(img.clone(), [dict(m) for m in metas],
                                 [b.clone() for b in gt_bboxes],
                                 [lab.clone() for lab in gt_labels])
    loss, _ = model._parse_losses(losses)
    return dict(images=[f"../mmdet_reference/images/{images[i].name}"
                        for i in maker.TRAIN_IMAGES],
                input_shape=list(img.shape), input_sum=float(img.double().sum()),
                metas=[dict(img_shape=list(m["img_shape"]), pad_shape=list(m["pad_shape"]))
                       for m in metas],
                gt=list(maker.GT), losses=maker.loss_values(losses), total=float(loss),
                **extra)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    os.chdir(HERE)
    one_stage = _one_stage()
    base = one_stage._base()
    maker = gfl_maker()
    cw = _load("calibrated_weights_ld", HERE / "calibrated_weights.py")
    images = sorted(one_stage.IMAGES.glob("img*.png"))
    for name in args.models:
        cfg_path = HERE / MODELS[name]
        summary = one_stage.run_model(name, cfg_path, images, cw, base)
        with tempfile.TemporaryDirectory() as folder:
            ckpt, teacher_weights = teacher_checkpoint(name, cfg_path, cw, folder)
            summary["train_step"] = run_losses(name, cfg_path, images, cw, maker, ckpt,
                                               teacher_weights)
        (HERE / f"reference_{name}.json").write_text(base.dumps_json(summary))
        step = summary["train_step"]
        print(f"{name}: detections per image {[im['num_dets'] for im in summary['images']]}; "
              f"cut {[sum(im['cut']['num_dets_per_class']) for im in summary['images']]}; "
              f"total loss {step['total']:.6f} "
              f"{ {k: (sum(v) if isinstance(v, list) else v) for k, v in step['losses'].items()} }"
              f"; teacher positives {step.get('teacher_num_pos')}", file=sys.stderr)
        for check, rows in summary["stability"].items():
            print(f"  {check}: {rows}", file=sys.stderr)


if __name__ == "__main__":
    main()
