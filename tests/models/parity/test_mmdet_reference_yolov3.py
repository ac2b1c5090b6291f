"""Same weights, same images, same detections and training losses as real MMDetection 2.28.2
for YOLOv3 (Darknet-53, YOLOV3Neck, YOLOV3Head, YOLOAnchorGenerator, YOLOBBoxCoder,
GridAssigner, MSELoss).

The reference (``tests/data/mmdet_reference_yolov3/``) was recorded with MMDetection itself and
mmcv-full 1.7.2's compiled ops; the weights are regenerated bit for bit from a seed.
"""

import importlib.util
import json

import numpy as np
import pytest
import torch

from detbox.apis import inference_detector, init_detector
from detbox.apis.inference import _prepare, _test_pipeline
from detbox.config import Config
from detbox.datasets.collate import collate
from detbox.registry import TASK_UTILS
from tests.conftest import DATA

REF = DATA / "mmdet_reference_yolov3"
IMAGES = sorted((DATA / "mmdet_reference" / "images").glob("img*.png"))
MODELS = {"yolov3": "yolov3_d53_tiny_ref.py"}
REL = 5e-4


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CW = _module("calibrated_weights_yolov3", REF / "calibrated_weights.py")
MAKE = _module("make_reference_yolov3", REF / "make_reference.py")


@pytest.fixture(scope="module", params=list(MODELS))
def model_and_ref(request):
    name = request.param
    model = init_detector(REF / "configs" / MODELS[name])
    keys = json.loads((REF / f"keys_{name}.json").read_text())["keys"]
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == [
        (k, tuple(shape)) for k, shape, _ in keys]  # MMDetection's names, shapes and order
    model.load_state_dict(CW.state_dict_from_keys_json(REF / f"keys_{name}.json"), strict=True)
    return name, model, np.load(REF / f"reference_{name}.npz")


def _batch(model, paths):
    data = collate([_prepare(str(p), _test_pipeline(model.cfg, False)) for p in paths])
    img, metas = data["img"][0], data["img_metas"][0]
    for m in metas:
        m["batch_input_shape"] = tuple(img.shape[-2:])
    return img, metas


def test_detections_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    results = inference_detector(model, [str(p) for p in IMAGES])
    total = 0
    for i, result in enumerate(results):
        for c, dets in enumerate(result):
            expected = ref[f"det/{i}/{c}"]
            assert dets.shape == expected.shape, (name, i, c)
            np.testing.assert_allclose(dets[:, 4], expected[:, 4], rtol=REL, atol=1e-7)
            np.testing.assert_allclose(dets[:, :4], expected[:, :4], rtol=REL, atol=1e-3)
            total += len(expected)
    assert total >= 30


def test_head_outputs_and_candidates_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    img, metas = _batch(model, IMAGES[:1])
    np.testing.assert_allclose(float(img.double().sum()), ref["inter/input/stats"][0], rtol=1e-6)
    with torch.no_grad():
        feats = model.extract_feat(img)
        for level, feat in enumerate(feats):
            idx = ref[f"inter/neck/{level}/sample_idx"]
            np.testing.assert_allclose(feat.reshape(-1)[idx].numpy(),
                                       ref[f"inter/neck/{level}/samples"], rtol=1e-4, atol=1e-5)
        (pred_maps,) = model.bbox_head(feats)
        for level, t in enumerate(pred_maps):
            np.testing.assert_allclose(t.numpy(), ref[f"inter/head/pred_map/{level}"],
                                       rtol=1e-4, atol=1e-4)
        # the reference's candidate rule, with detbox's anchors and coder
        bboxes, scores, labels = MAKE._candidates(model, pred_maps, metas)
    assert scores.numel() == int(ref["inter/cand/num"])
    order = torch.argsort(scores, descending=True, stable=True)
    first = torch.cat([bboxes[order], scores[order, None], labels[order, None].float()], 1)
    expected = ref["inter/cand/first"]
    np.testing.assert_array_equal(first[:len(expected), 5].numpy(), expected[:, 5])
    np.testing.assert_allclose(first[:len(expected), :5].numpy(), expected[:, :5], rtol=REL,
                               atol=1e-3)


def test_one_training_step_losses_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    # init_detector drops train_cfg; give the head the config's assigner, as the reference did
    model.bbox_head.assigner = TASK_UTILS.build(
        Config.fromfile(REF / "configs" / MODELS[name]).model.train_cfg.assigner)
    model.bbox_head.sampler = TASK_UTILS.build(dict(type="PseudoSampler"))
    img, metas = _batch(model, IMAGES[:2])
    np.testing.assert_allclose(float(img.double().sum()), ref["train/input/stats"][0],
                               rtol=1e-6)
    gts = [torch.tensor(b, dtype=torch.float32) for b, _ in MAKE.TRAIN_GTS]
    labels = [torch.tensor(lab, dtype=torch.long) for _, lab in MAKE.TRAIN_GTS]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.use_channels_last(False)  # NCHW as MMDetection, for the gradients
    model.train()
    try:
        model.zero_grad()
        losses = model.forward_train(img, metas, [g.clone() for g in gts], labels)
        expected = sorted({k.split("/")[1] for k in ref.files if k.startswith("train/loss")})
        assert sorted(losses) == expected
        for key, values in losses.items():
            assert len(values) == 3, key
            for level, value in enumerate(values):
                np.testing.assert_allclose(float(value.detach()),
                                           float(ref[f"train/{key}/{level}"]), rtol=1e-4,
                                           err_msg=f"{key} level {level}")
        sum(sum(v) for v in losses.values()).backward()
        params = dict(model.named_parameters())
        for key in MAKE.GRAD_KEYS:
            np.testing.assert_allclose(float(params[key].grad.norm()),
                                       float(ref[f"train/grad_norm/{key}"]), rtol=1e-4,
                                       atol=1e-9, err_msg=f"grad {key}")
    finally:
        model.use_channels_last(True)
        model.eval()
        model.load_state_dict(state)
