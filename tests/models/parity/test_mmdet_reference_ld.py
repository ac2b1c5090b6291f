"""Same weights, same images: real MMDetection 2.28.2's detections and one training step's
losses for LD (a GFL student distilled from a GFL teacher) and LAD (a PAA student trained on
a PAA teacher's label assignment).

The reference was recorded with MMDetection itself (``tests/data/mmdet_reference_ld/``); the
weights of students and teachers are regenerated bit for bit from seeds, and the teachers'
weights reach the models as MMDetection's do: a checkpoint file written first (here into
``tmp_path``) named by ``teacher_ckpt``. The LD config's ``teacher_config`` is relative to the
working directory (MMDetection's rule), so the models are built in the reference folder.
Detections: counts equal, scores and boxes within 5e-4 relative. Losses: every term (per
level where MMDetection keeps levels), ``loss_ld`` included, within 1e-4 relative.
"""

import contextlib
import importlib.util
import json
import os

import numpy as np
import pytest
import torch

from detbox.apis import inference_detector, init_detector
from detbox.config import Config
from detbox.models.builder import build_detector
from tests.conftest import DATA

REF = DATA / "mmdet_reference_ld"
IMAGES = sorted((DATA / "mmdet_reference" / "images").glob("img*.png"))
MODELS = {"ld": "ld_r18_gfl_r18_tiny.py", "lad": "lad_r18_paa_r18_tiny.py"}
RTOL = 5e-4
LOSS_RTOL = 1e-4


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CW = _load("calibrated_weights_ld", REF / "calibrated_weights.py")
GFL_MAKER = _load("make_reference_gfl_for_ld_test",
                  DATA / "mmdet_reference_gfl_tood_vfnet" / "make_reference.py")


@contextlib.contextmanager
def in_reference_folder():
    saved = os.getcwd()
    os.chdir(REF)
    try:
        yield
    finally:
        os.chdir(saved)


def _keys(name):
    return [(k, tuple(shape)) for k, shape, _ in
            json.loads((REF / f"keys_{name}.json").read_text())["keys"]]


@pytest.fixture(scope="module", params=list(MODELS))
def model_and_ref(request):
    name = request.param
    with in_reference_folder():
        model = init_detector(REF / "configs" / MODELS[name])
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == _keys(name)
    model.load_state_dict(CW.state_dict_from_keys_json(REF / f"keys_{name}.json"), strict=True)
    return name, model, np.load(REF / f"reference_{name}.npz")


def check_detections(results, ref, prefix):
    total = 0
    for i, result in enumerate(results):
        assert len(result) == 3
        for c in range(3):
            expected = ref[f"{prefix}/{i}/{c}"]
            assert result[c].shape == expected.shape, (prefix, i, c)
            np.testing.assert_allclose(result[c][:, 4], expected[:, 4], rtol=RTOL, atol=1e-6)
            np.testing.assert_allclose(result[c][:, :4], expected[:, :4], rtol=RTOL, atol=2e-3)
            total += len(expected)
    return total


def test_detections_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    assert len(IMAGES) == 3
    paths = [str(p) for p in IMAGES]
    assert check_detections(inference_detector(model, paths), ref, "det") >= 30
    saved = dict(model.bbox_head.test_cfg)
    model.bbox_head.test_cfg.update(nms_pre=30, score_thr=0.02)  # an active nms_pre cut
    try:
        assert check_detections(inference_detector(model, paths), ref, "det_cut") >= 30
    finally:
        model.bbox_head.test_cfg.update(saved)


def _train_batch(cfg):
    from detbox.apis.inference import _prepare, _test_pipeline
    from detbox.datasets.collate import collate

    pipeline = _test_pipeline(cfg, False)
    samples = []
    for i in GFL_MAKER.TRAIN_IMAGES:
        data = collate([_prepare(str(IMAGES[i]), pipeline)])
        samples.append((data["img"][0][0], data["img_metas"][0][0]))
    return GFL_MAKER.train_batch(samples)


def _write_teacher_checkpoint(name, folder):
    weights = CW.state_dict_from_keys_json(REF / f"keys_{name}_teacher.json")
    path = folder / f"{name}_teacher.pth"
    torch.save(dict(meta=dict(note="calibrated random weights"), state_dict=weights), path)
    return path, weights


@pytest.mark.parametrize("name", list(MODELS))
def test_training_step_losses_equal_mmdetection(name, tmp_path):
    step = json.loads((REF / f"reference_{name}.json").read_text())["train_step"]
    ckpt, teacher_weights = _write_teacher_checkpoint(name, tmp_path)
    cfg = Config.fromfile(REF / "configs" / MODELS[name])
    cfg.model.teacher_ckpt = str(ckpt)
    with in_reference_folder():
        model = build_detector(cfg.model)
    teacher_sd = model.teacher_model.state_dict()
    assert [(k, tuple(v.shape)) for k, v in teacher_sd.items()] == _keys(f"{name}_teacher")
    assert all(torch.equal(teacher_sd[k], v) for k, v in teacher_weights.items())
    model.load_state_dict(CW.state_dict_from_keys_json(REF / f"keys_{name}.json"), strict=True)
    model.train()
    assert not model.teacher_model.training
    img, metas = _train_batch(cfg)
    assert list(img.shape) == step["input_shape"]
    np.testing.assert_allclose(float(img.double().sum()), step["input_sum"], rtol=1e-6)
    gt_bboxes, gt_labels = GFL_MAKER.gt_tensors()
    with torch.no_grad():
        if name == "ld":
            outs = model.teacher_outputs(img)
        else:
            outs = model.teacher_model.bbox_head(model.extract_teacher_feat(img))
            assignment = model.teacher_model.bbox_head.get_label_assignment(
                *outs, gt_bboxes, gt_labels, [dict(m) for m in metas])
            assert assignment.num_pos == step["teacher_num_pos"]
            assert assignment.pos_inds_flatten.tolist() == step["teacher_pos_inds"]
    sums = [[float(t.double().sum()) for t in levels] for levels in outs]
    for ours, theirs in zip(sums, step["teacher_out_sums"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-2)
    losses = model.forward_train(img.clone(), [dict(m) for m in metas],
                                 [b.clone() for b in gt_bboxes],
                                 [lab.clone() for lab in gt_labels])
    ours = GFL_MAKER.loss_values(losses)
    assert set(ours) == set(step["losses"])
    for key, expected in step["losses"].items():
        np.testing.assert_allclose(np.atleast_1d(ours[key]), np.atleast_1d(expected),
                                   rtol=LOSS_RTOL, atol=1e-7, err_msg=f"{name} {key}")
    loss, _ = model._parse_losses(losses)
    np.testing.assert_allclose(float(loss.detach()), step["total"], rtol=LOSS_RTOL)
    if name == "ld":
        assert sum(step["losses"]["loss_ld"]) > 0.05  # the distillation term is exercised
