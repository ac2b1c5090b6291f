"""Same weights, same image, same detections as real MMDetection 2.28.2 (mmcv-full 1.7.2).

The reference outputs were recorded with MMDetection itself (tests/data/mmdet_reference/); the
weights are regenerated bit for bit from a seed on both sides.
"""

import importlib.util

import numpy as np
import pytest
import torch

from detbox.apis import inference_detector, init_detector
from tests.conftest import DATA

REF = DATA / "mmdet_reference"
IMAGES = sorted((REF / "images").glob("img*.png"))


def calibrated_state_dict(keys_json):
    spec = importlib.util.spec_from_file_location("calibrated_weights",
                                                  REF / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_dict_from_keys_json(str(keys_json))


@pytest.fixture(scope="module", params=["faster", "cascade"])
def model_and_ref(request):
    name = request.param
    model = init_detector(REF / "configs" / f"{name}_rcnn_r18_fpn_tiny.py")
    state = calibrated_state_dict(REF / f"keys_{name}.json")
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in state.items()}
    assert ours == theirs  # MMDetection's key names and shapes
    model.load_state_dict(state, strict=True)
    return name, model, np.load(REF / f"reference_{name}.npz")


def test_detections_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    assert len(IMAGES) == 3
    results = inference_detector(model, [str(p) for p in IMAGES])
    for i, result in enumerate(results):
        assert len(result) == 3
        for c in range(3):
            expected = ref[f"det/{i}/{c}"]
            assert result[c].shape == expected.shape, (name, i, c)
            np.testing.assert_allclose(result[c][:, 4], expected[:, 4], rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(result[c][:, :4], expected[:, :4], rtol=1e-4, atol=1e-3)


def test_intermediate_outputs_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    from detbox.apis.inference import _prepare, _test_pipeline
    from detbox.datasets.collate import collate

    data = collate([_prepare(str(IMAGES[0]), _test_pipeline(model.cfg, False))])
    img, metas = data["img"][0], data["img_metas"][0]
    stats = ref["inter/input/stats"]
    np.testing.assert_allclose(float(img.sum()), stats[0], rtol=1e-5)
    with torch.no_grad():
        feats = model.extract_feat(img)
        cls_scores, bbox_preds = model.rpn_head(feats)
        for level in range(5):
            np.testing.assert_allclose(cls_scores[level].numpy(), ref[f"inter/rpn_cls/{level}"],
                                       rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(bbox_preds[level].numpy(), ref[f"inter/rpn_reg/{level}"],
                                       rtol=1e-4, atol=1e-5)
        for m in metas:
            m["batch_input_shape"] = tuple(img.shape[-2:])
        proposals = model.rpn_head.simple_test_rpn(feats, metas)[0]
    assert len(proposals) == int(ref["inter/proposals/num"])
    np.testing.assert_allclose(proposals[:50].numpy(), ref["inter/proposals/first"], rtol=1e-4,
                               atol=1e-3)

