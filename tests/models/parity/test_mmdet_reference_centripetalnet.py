"""Same weights, same images, same detections and training losses as real MMDetection 2.28.2
for CentripetalNet (HourglassNet, CentripetalHead: corner pooling, guiding and centripetal
shifts, deformable feature adaption, centripetal pairing; soft-NMS, flip test).

The reference (``tests/data/mmdet_reference_centripetalnet/``) was recorded with MMDetection
itself and mmcv-full 1.7.2 (compiled DeformConv2d); the weights are regenerated bit for bit
from a seed.
"""

import importlib.util
import json

import numpy as np
import pytest
import torch

from detbox.apis import inference_detector, init_detector
from detbox.apis.inference import _prepare, _test_pipeline
from detbox.datasets.collate import collate
from tests.conftest import DATA

REF = DATA / "mmdet_reference_centripetalnet"
IMAGES = sorted((DATA / "mmdet_reference" / "images").glob("img*.png"))
REL = 5e-4


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CW = _module("calibrated_weights_centripetalnet", REF / "calibrated_weights.py")
MAKE = _module("make_reference_centripetalnet", REF / "make_reference.py")


@pytest.fixture(scope="module")
def model_and_ref():
    model = init_detector(REF / MAKE.CONFIG)
    keys = json.loads((REF / "keys_centripetalnet.json").read_text())["keys"]
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == [
        (k, tuple(shape)) for k, shape, _ in keys]  # MMDetection's names, shapes and order
    model.load_state_dict(CW.state_dict_from_keys_json(REF / "keys_centripetalnet.json"),
                          strict=True)
    yield model, np.load(REF / "reference_centripetalnet.npz")
    MAKE.set_flip(model.cfg, True)


def _batch(model, paths):
    data = collate([_prepare(str(p), _test_pipeline(model.cfg, False)) for p in paths])
    img, metas = data["img"][0], data["img_metas"][0]
    for m in metas:
        m["batch_input_shape"] = tuple(img.shape[-2:])
    return img, metas


def _assert_detections(model, ref, prefix, min_total):
    results = [inference_detector(model, str(p)) for p in IMAGES]  # one at a time, as recorded
    total = 0
    for i, result in enumerate(results):
        for c, dets in enumerate(result):
            expected = ref[f"{prefix}/{i}/{c}"]
            assert dets.shape == expected.shape, (prefix, i, c)
            np.testing.assert_allclose(dets[:, 4], expected[:, 4], rtol=REL, atol=1e-7)
            np.testing.assert_allclose(dets[:, :4], expected[:, :4], rtol=REL, atol=1e-3)
            total += len(expected)
    assert total >= min_total


@pytest.mark.parametrize("flip, prefix, min_total",
                         [(True, "det", 160), (False, "det_single", 100)])
def test_detections_equal_mmdetection(model_and_ref, flip, prefix, min_total):
    model, ref = model_and_ref
    MAKE.set_flip(model.cfg, flip)
    _assert_detections(model, ref, prefix, min_total)


def test_head_outputs_and_candidates_equal_mmdetection(model_and_ref):
    model, ref = model_and_ref
    MAKE.set_flip(model.cfg, False)
    img, metas = _batch(model, IMAGES[:1])
    np.testing.assert_allclose(float(img.double().sum()), ref["inter/input/stats"][0], rtol=1e-6)
    with torch.no_grad():
        outs = model.bbox_head(model.extract_feat(img))
        for name, levels in zip(MAKE.HEAD_NAMES, outs):
            for level, t in enumerate(levels):
                key = f"inter/head/{name}/{level}"
                np.testing.assert_allclose(t.reshape(-1)[ref[f"{key}/sample_idx"]].numpy(),
                                           ref[f"{key}/samples"], rtol=1e-4, atol=1e-4,
                                           err_msg=key)
        dets, labels = model.bbox_head.get_bboxes(*outs, img_metas=metas, rescale=True,
                                                  with_nms=False)[0]
    assert dets.shape[0] == int(ref["inter/cand/num"]) > 100
    order = torch.argsort(dets[:, 4], descending=True, stable=True)
    first = torch.cat([dets[order], labels[order, None]], 1)
    expected = ref["inter/cand/first"]
    np.testing.assert_array_equal(first[:len(expected), 5].numpy(), expected[:, 5])
    np.testing.assert_allclose(first[:len(expected), :5].numpy(), expected[:, :5], rtol=REL,
                               atol=1e-3)


def test_one_training_step_losses_equal_mmdetection(model_and_ref):
    model, ref = model_and_ref
    MAKE.set_flip(model.cfg, True)
    img, metas = _batch(model, [IMAGES[i] for i in MAKE.TRAIN_IMAGES])
    np.testing.assert_allclose(float(img.double().sum()), ref["train/input/stats"][0],
                               rtol=1e-6)
    gts = [torch.tensor(b, dtype=torch.float32) for b, _ in MAKE.TRAIN_GTS]
    labels = [torch.tensor(lab, dtype=torch.long) for _, lab in MAKE.TRAIN_GTS]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.use_channels_last(False)
    model.train()
    try:
        model.zero_grad()
        losses = model.forward_train(img, metas, [g.clone() for g in gts], labels)
        expected = sorted({k.split("/")[1] for k in ref.files
                           if k.startswith("train/") and "_loss/" in k})
        assert sorted(losses) == expected == ["centripetal_loss", "det_loss", "guiding_loss",
                                              "off_loss"]
        for key, values in losses.items():
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
