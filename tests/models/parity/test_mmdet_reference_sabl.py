"""Same weights, same images, same detections and losses as real MMDetection 2.28.2 for SABL
RetinaNet, SABL Faster R-CNN and SABL Cascade R-CNN (three SABL heads, each refining the
previous stage's boxes).

The reference outputs were recorded with MMDetection itself and mmcv-full 1.7.2's compiled CPU
ops (``tests/data/mmdet_reference_sabl/``, README there); the weights are regenerated bit for
bit from a seed. Detections: counts equal, boxes and scores within 5e-4 relative (RetinaNet
also with an active per-level ``nms_pre`` cut). One training step on a fixed batch: every loss
within 1e-4 relative.
"""

import importlib.util
import json

import numpy as np
import pytest

from detbox.apis import inference_detector, init_detector
from tests.conftest import DATA
from tests.models.parity.reference_steps import IMAGES, assert_training_step_equals_reference

REF = DATA / "mmdet_reference_sabl"
MODELS = {
    "sabl_retinanet": "sabl_retinanet_r18_fpn_tiny.py",
    "sabl_faster": "sabl_faster_rcnn_r18_fpn_tiny.py",
    "sabl_cascade": "sabl_cascade_rcnn_r18_fpn_tiny.py",
}
RTOL = 5e-4
# the cascade (beyond the brief's two models; three stages, the slowest here): slow-marked
PARAMS = [pytest.param(name, marks=pytest.mark.slow) if name == "sabl_cascade" else name
          for name in MODELS]


def calibrated_state_dict(name):
    spec = importlib.util.spec_from_file_location("calibrated_weights_sabl",
                                                  REF / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_dict_from_keys_json(str(REF / f"keys_{name}.json"))


def load_model(name):
    model = init_detector(REF / "configs" / MODELS[name], cfg_options=dict(channels_last=False))
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    theirs = [(k, tuple(shape)) for k, shape, _ in
              json.loads((REF / f"keys_{name}.json").read_text())["keys"]]
    assert ours == theirs  # MMDetection's key names, shapes and order
    model.load_state_dict(calibrated_state_dict(name), strict=True)
    return name, model, np.load(REF / f"reference_{name}.npz")


@pytest.fixture(scope="module", params=PARAMS)
def model_and_ref(request):
    return load_model(request.param)


def check_detections(name, results, ref, prefix):
    total = 0
    for i, result in enumerate(results):
        assert len(result) == 3
        for c in range(3):
            expected = ref[f"{prefix}/{i}/{c}"]
            assert result[c].shape == expected.shape, (name, prefix, i, c)
            np.testing.assert_allclose(result[c][:, 4], expected[:, 4], rtol=RTOL, atol=1e-6)
            np.testing.assert_allclose(result[c][:, :4], expected[:, :4], rtol=RTOL, atol=1e-3)
            total += len(expected)
    return total


def test_detections_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    results = inference_detector(model, [str(p) for p in IMAGES])
    assert check_detections(name, results, ref, "det") >= 30


def test_retinanet_detections_with_an_active_nms_pre_cut_equal_mmdetection():
    # nms_pre=30 per level with score_thr 0.02: the per-level top-k selection decides
    name, model, ref = load_model("sabl_retinanet")
    model.bbox_head.test_cfg.update(nms_pre=30, score_thr=0.02)
    results = inference_detector(model, [str(p) for p in IMAGES])
    assert check_detections(name, results, ref, "det_cut") >= 30


@pytest.mark.parametrize("name", PARAMS)
def test_training_step_losses_equal_mmdetection(name):
    assert_training_step_equals_reference(REF, name, MODELS[name], calibrated_state_dict(name))
