"""Same weights, same inputs, same outputs as real MMDetection 2.28.2 / MMClassification 0.25:
a tiny PVTv2 RetinaNet (detections and one training step's losses), the PVT v1 backbone
(position embeddings resized to the input) and the ConvNeXt backbone (mmcls's).

References: tests/data/mmdet_reference_pvt/ (make_reference.py, run in the side venv); the
weights are regenerated bit for bit from a seed (calibrated_weights.py there).
"""

import importlib.util
import json

import numpy as np
import pytest
import torch

from detbox.apis import inference_detector, init_detector
from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.registry import MODELS
from tests.conftest import DATA

REF = DATA / "mmdet_reference_pvt"
IMAGES = sorted((DATA / "mmdet_reference" / "images").glob("img*.png"))


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CW = _module("calibrated_weights_pvt", REF / "calibrated_weights.py")
MAKE = _module("make_reference_pvt", REF / "make_reference.py")


def _layout(keys_json):
    return [(k, tuple(s)) for k, s, _ in json.loads(keys_json.read_text())["keys"]]


@pytest.fixture(scope="module")
def retinanet():
    model = init_detector(REF / "configs" / "retinanet_pvtv2_fpn_tiny.py")
    keys = REF / "keys_pvtv2_retinanet.json"
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == _layout(keys)
    model.load_state_dict(CW.state_dict_from_keys_json(keys), strict=True)
    return model, np.load(REF / "reference_pvtv2_retinanet.npz")


def _check(results, ref, prefix):
    total = 0
    for i, result in enumerate(results):
        for c in range(3):
            expected = ref[f"{prefix}/{i}/{c}"]
            assert result[c].shape == expected.shape, (prefix, i, c)
            np.testing.assert_allclose(result[c][:, 4], expected[:, 4], rtol=5e-4, atol=1e-6)
            np.testing.assert_allclose(result[c][:, :4], expected[:, :4], rtol=5e-4, atol=1e-3)
            total += len(expected)
    return total


def test_pvtv2_retinanet_detections_equal_mmdetection(retinanet):
    model, ref = retinanet
    paths = [str(p) for p in IMAGES]
    assert _check(inference_detector(model, paths), ref, "det") >= 30
    saved = dict(model.bbox_head.test_cfg)
    model.bbox_head.test_cfg.update(nms_pre=30, score_thr=0.02)
    try:
        assert _check(inference_detector(model, paths), ref, "det_cut") >= 30
    finally:
        model.bbox_head.test_cfg.update(saved)


def test_pvtv2_retinanet_training_step_losses_equal_mmdetection():
    model = build_detector(Config.fromfile(REF / "configs" / "retinanet_pvtv2_fpn_tiny.py").model)
    model.load_state_dict(CW.state_dict_from_keys_json(REF / "keys_pvtv2_retinanet.json"),
                          strict=True)
    expected = json.loads((REF / "train_step_pvtv2_retinanet.json").read_text())
    img, metas, boxes, labels = MAKE.train_batch()
    model.train()
    losses = model(torch.from_numpy(img), metas, return_loss=True,
                   gt_bboxes=[torch.from_numpy(b) for b in boxes],
                   gt_labels=[torch.from_numpy(x) for x in labels])
    loss, log_vars = model._parse_losses(losses)
    loss.backward()
    for key, value in expected["terms"].items():
        ours = ([float(x.detach()) for x in losses[key]] if isinstance(value, list)
                else float(losses[key].detach()))
        np.testing.assert_allclose(ours, value, rtol=1e-4, err_msg=key)
    for key, value in expected["log_vars"].items():
        np.testing.assert_allclose(float(log_vars[key]), value, rtol=1e-4, err_msg=key)
    params = dict(model.named_parameters())
    for key, value in expected["grad_abs_sum"].items():
        np.testing.assert_allclose(float(params[key].grad.abs().sum()), value, rtol=1e-4,
                                   err_msg=key)


@pytest.mark.parametrize("name", list(MAKE.BACKBONES))
def test_backbone_features_equal_the_reference(name):
    cfg = dict(MAKE.BACKBONES[name])
    model = MODELS.build(cfg).eval()
    keys = REF / f"keys_{name}.json"
    assert [(f"backbone.{k}", tuple(v.shape)) for k, v in model.state_dict().items()] \
        == _layout(keys)
    state = CW.state_dict_from_keys_json(keys)
    model.load_state_dict({k[len("backbone."):]: v for k, v in state.items()}, strict=True)
    ref = np.load(REF / f"features_{name}.npz")
    with torch.no_grad():
        feats = model(torch.from_numpy(MAKE.feature_input()))
    assert len(feats) == len(ref.files)
    for i, feat in enumerate(feats):
        np.testing.assert_allclose(feat.numpy(), ref[f"feat/{i}"], rtol=1e-5, atol=1e-5,
                                   err_msg=f"{name} level {i}")
