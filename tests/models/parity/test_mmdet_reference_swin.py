"""Same weights, same images: Swin RetinaNet and Swin ATSS give real MMDetection 2.28.2's
detections and training-step losses.

The references (tests/data/mmdet_reference_swin/, ``make_reference.py`` run in the side venv)
hold MMDetection's detections on three images, image 0's backbone and neck features, and the
losses and a few gradients of one training step on a fixed two-image batch. The weights are
regenerated bit for bit from a seed (``calibrated_weights.py``).
"""

import importlib.util
import json

import numpy as np
import pytest
import torch

from detbox.apis import inference_detector, init_detector
from detbox.apis.inference import _prepare, _test_pipeline
from detbox.config import Config
from detbox.models.builder import build_detector
from tests.conftest import DATA

REF = DATA / "mmdet_reference_swin"
IMAGES = sorted((DATA / "mmdet_reference" / "images").glob("img*.png"))
MODELS = {"retinanet": "retinanet_swin-t_fpn_tiny.py", "atss": "atss_swin-t_fpn_tiny.py"}


def _reference_module():
    spec = importlib.util.spec_from_file_location("make_reference_swin", REF / "make_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def calibrated_state_dict(keys_json):
    spec = importlib.util.spec_from_file_location("calibrated_weights_swin",
                                                  REF / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_dict_from_keys_json(str(keys_json))


@pytest.fixture(scope="module", params=list(MODELS))
def model_and_ref(request):
    name = request.param
    model = init_detector(REF / "configs" / MODELS[name])
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    theirs = [(k, tuple(shape)) for k, shape, _ in
              json.loads((REF / f"keys_{name}.json").read_text())["keys"]]
    assert sorted(ours) == sorted(theirs)  # MMDetection's key names and shapes
    model.load_state_dict(calibrated_state_dict(REF / f"keys_{name}.json"), strict=True)
    return name, model, np.load(REF / f"reference_{name}.npz")


def test_detections_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    results = inference_detector(model, [str(p) for p in IMAGES])
    total = 0
    for i, result in enumerate(results):
        for c in range(3):
            expected = ref[f"det/{i}/{c}"]
            assert result[c].shape == expected.shape, (name, i, c)
            np.testing.assert_allclose(result[c][:, 4], expected[:, 4], rtol=5e-4, atol=1e-6)
            np.testing.assert_allclose(result[c][:, :4], expected[:, :4], rtol=5e-4, atol=1e-3)
            total += len(expected)
    assert total >= 30


def _inputs(model, indices):
    pipeline = _test_pipeline(model.cfg, False)
    samples = [_prepare(str(IMAGES[i]), pipeline) for i in indices]
    return [s["img"][0] for s in samples], [s["img_metas"][0] for s in samples]


def test_features_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    (img,), _ = _inputs(model, [0])
    with torch.no_grad():
        feats = model.backbone(img[None])
        for prefix, maps in (("backbone", feats), ("neck", model.neck(feats))):
            for level, feat in enumerate(maps):
                key = f"inter/{prefix}/{level}"
                assert list(feat.shape) == ref[f"{key}/shape"].tolist(), key
                np.testing.assert_allclose(feat.reshape(-1)[ref[f"{key}/sample_idx"]].numpy(),
                                           ref[f"{key}/samples"], rtol=1e-4, atol=1e-5,
                                           err_msg=key)


def test_training_step_losses_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    make = _reference_module()
    imgs, metas = _inputs(model, make.TRAIN_IMAGES)
    batch = make.train_batch(imgs)
    gt_bboxes = [torch.tensor(make.TRAIN_GT[i][0]) for i in make.TRAIN_IMAGES]
    gt_labels = [torch.tensor(make.TRAIN_GT[i][1]) for i in make.TRAIN_IMAGES]
    model = build_detector(Config.fromfile(REF / "configs" / MODELS[name]).model)
    model.load_state_dict(calibrated_state_dict(REF / f"keys_{name}.json"), strict=True)
    model.train()
    losses = model(batch, metas, return_loss=True, gt_bboxes=gt_bboxes, gt_labels=gt_labels)
    expected = {k[len("train/loss/"):]: float(ref[k]) for k in ref.files
                if k.startswith("train/loss/")}
    assert set(losses) == set(expected)
    total = 0
    for key, value in losses.items():
        value = sum(value) if isinstance(value, (list, tuple)) else value
        assert float(value.detach()) == pytest.approx(expected[key], rel=1e-4), key
        total = total + value
    total.backward()
    params = dict(model.named_parameters())
    for key in make.GRAD_KEYS:
        prefix = f"train/grad/{key}"
        grad = params[key].grad.reshape(-1)[ref[f"{prefix}/sample_idx"]].numpy()
        scale = float(np.abs(ref[f"{prefix}/samples"]).max())
        np.testing.assert_allclose(grad, ref[f"{prefix}/samples"], rtol=1e-3,
                                   atol=1e-4 * scale, err_msg=key)
