"""Same weights, same images, same detections and training losses as real MMDetection 2.28.2
for SSD300 (SSDVGG, SSDNeck with the L2 norm, SSDHead with hard negative mining,
SSDAnchorGenerator); reference in ``tests/data/mmdet_reference_ssd/``.
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

REF = DATA / "mmdet_reference_ssd"
IMAGES = sorted((DATA / "mmdet_reference" / "images").glob("img*.png"))
CONFIG = REF / "configs" / "ssd300_ref.py"
REL = 5e-4


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CW = _module("calibrated_weights_ssd", REF / "calibrated_weights.py")
MAKE = _module("make_reference_ssd", REF / "make_reference.py")


@pytest.fixture(scope="module")
def model_and_ref():
    model = init_detector(CONFIG)
    keys = json.loads((REF / "keys_ssd300.json").read_text())["keys"]
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == [
        (k, tuple(shape)) for k, shape, _ in keys]  # MMDetection's names, shapes and order
    model.load_state_dict(CW.state_dict_from_keys_json(REF / "keys_ssd300.json"), strict=True)
    return model, np.load(REF / "reference_ssd300.npz")


def _batch(model, paths):
    data = collate([_prepare(str(p), _test_pipeline(model.cfg, False)) for p in paths])
    img, metas = data["img"][0], data["img_metas"][0]
    for m in metas:
        m["batch_input_shape"] = tuple(img.shape[-2:])
    return img, metas


def test_detections_equal_mmdetection(model_and_ref):
    model, ref = model_and_ref
    results = inference_detector(model, [str(p) for p in IMAGES])
    total = 0
    for i, result in enumerate(results):
        for c, dets in enumerate(result):
            expected = ref[f"det/{i}/{c}"]
            assert dets.shape == expected.shape, (i, c)
            np.testing.assert_allclose(dets[:, 4], expected[:, 4], rtol=REL, atol=1e-7)
            np.testing.assert_allclose(dets[:, :4], expected[:, :4], rtol=REL, atol=1e-3)
            total += len(expected)
    assert total >= 30


def test_head_outputs_and_candidates_equal_mmdetection(model_and_ref):
    model, ref = model_and_ref
    img, metas = _batch(model, IMAGES[:1])
    np.testing.assert_allclose(float(img.double().sum()), ref["inter/input/stats"][0], rtol=1e-6)
    with torch.no_grad():
        feats = model.extract_feat(img)
        for level, feat in enumerate(feats):
            idx = ref[f"inter/neck/{level}/sample_idx"]
            np.testing.assert_allclose(feat.reshape(-1)[idx].numpy(),
                                       ref[f"inter/neck/{level}/samples"], rtol=1e-4, atol=1e-5)
        outs = model.bbox_head(feats)
        for out_name, levels in zip(("cls_score", "bbox_pred"), outs):
            for level, t in enumerate(levels):
                key = f"inter/head/{out_name}/{level}"
                if key in ref:
                    np.testing.assert_allclose(t.numpy(), ref[key], rtol=1e-4, atol=1e-4)
                else:
                    np.testing.assert_allclose(t.reshape(-1)[ref[f"{key}/sample_idx"]].numpy(),
                                               ref[f"{key}/samples"], rtol=1e-4, atol=1e-4)
        bboxes, scores, labels = model.bbox_head.get_bboxes(*outs, img_metas=metas,
                                                            rescale=True, with_nms=False)[0]
    assert scores.numel() == int(ref["inter/cand/num"])
    order = torch.argsort(scores, descending=True, stable=True)
    first = torch.cat([bboxes[order], scores[order, None], labels[order, None].float()], 1)
    expected = ref["inter/cand/first"]
    np.testing.assert_array_equal(first[:len(expected), 5].numpy(), expected[:, 5])
    np.testing.assert_allclose(first[:len(expected), :5].numpy(), expected[:, :5], rtol=REL,
                               atol=1e-3)


def test_one_training_step_losses_equal_mmdetection(model_and_ref):
    model, ref = model_and_ref
    head = model.bbox_head
    # init_detector drops train_cfg; give the head the config's, as the reference did
    head.train_cfg = Config.fromfile(CONFIG).model.train_cfg
    head.assigner = TASK_UTILS.build(head.train_cfg["assigner"])
    head.sampler = TASK_UTILS.build(dict(type="PseudoSampler"))
    img, metas = _batch(model, IMAGES[:2])
    np.testing.assert_allclose(float(img.double().sum()), ref["train/input/stats"][0],
                               rtol=1e-6)
    gts = [torch.tensor(b, dtype=torch.float32) for b, _ in MAKE.TRAIN_GTS]
    labels = [torch.tensor(lab, dtype=torch.long) for _, lab in MAKE.TRAIN_GTS]
    model.use_channels_last(False)  # NCHW as MMDetection
    model.train()
    try:
        model.zero_grad()
        losses = model.forward_train(img, metas, gts, labels)
        assert sorted(losses) == ["loss_bbox", "loss_cls"]
        for key, values in losses.items():
            np.testing.assert_allclose([float(v.detach()) for v in values], ref[f"train/{key}"],
                                       rtol=1e-4, err_msg=key)
        sum(sum(v) for v in losses.values()).backward()
        params = dict(model.named_parameters())
        for key in MAKE.GRAD_KEYS:
            np.testing.assert_allclose(float(params[key].grad.norm()),
                                       float(ref[f"train/grad_norm/{key}"]), rtol=1e-4,
                                       err_msg=f"grad {key}")
    finally:
        model.zero_grad()
        model.use_channels_last(True)
        model.eval()
