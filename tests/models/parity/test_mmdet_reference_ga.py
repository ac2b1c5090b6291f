"""Same weights, same images, same detections and losses as real MMDetection 2.28.2 for Guided
Anchoring: GA-RetinaNet (``GARetinaHead``) and GA Faster R-CNN (``GARPNHead``).

The reference outputs were recorded with MMDetection itself and mmcv-full 1.7.2's compiled CPU
ops (``tests/data/mmdet_reference_ga/``, README there; mmcv's ``MaskedConv2d`` has no CPU
kernel, the recorder gives it its definition: conv, zero outside the mask); the weights are
regenerated bit for bit from a seed. Detections: counts equal, boxes and scores within 5e-4
relative. One training step on a fixed batch: every loss within 1e-4 relative.
"""

import importlib.util
import json

import numpy as np
import pytest
import torch

from detbox.apis import inference_detector, init_detector
from tests.conftest import DATA
from tests.models.parity.reference_steps import IMAGES, assert_training_step_equals_reference

REF = DATA / "mmdet_reference_ga"
MODELS = {"ga_retinanet": "ga_retinanet_r18_fpn_tiny.py", "ga_faster": "ga_faster_r18_fpn_tiny.py"}
CUT_HEAD = {"ga_retinanet": "bbox_head", "ga_faster": "rpn_head"}
RTOL = 5e-4


def calibrated_state_dict(name):
    spec = importlib.util.spec_from_file_location("calibrated_weights_ga",
                                                  REF / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_dict_from_keys_json(str(REF / f"keys_{name}.json"))


@pytest.fixture(scope="module", params=list(MODELS))
def model_and_ref(request):
    name = request.param
    model = init_detector(REF / "configs" / MODELS[name], cfg_options=dict(channels_last=False))
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    theirs = [(k, tuple(shape)) for k, shape, _ in
              json.loads((REF / f"keys_{name}.json").read_text())["keys"]]
    assert ours == theirs  # MMDetection's key names, shapes and order
    model.load_state_dict(calibrated_state_dict(name), strict=True)
    return name, model, np.load(REF / f"reference_{name}.npz")


def canonical(dets, tie=1e-5):
    """Rows in score order, runs of near-equal scores (relative gap < ``tie``) sorted by box:
    two such detections may come out in either order (GA Faster's image 1, class 0 has two
    4.9e-7 apart; weights perturbed by 1e-6 swap them in MMDetection itself, README)."""
    rows = [list(r) for r in dets]
    out, start = [], 0
    for k in range(1, len(rows) + 1):
        if k == len(rows) or rows[k - 1][4] - rows[k][4] > tie * abs(rows[k - 1][4]):
            out += sorted(rows[start:k], key=lambda r: r[:4])
            start = k
    return np.array(out, dtype=np.float32).reshape(-1, 5)


def check_detections(name, results, ref, prefix):
    total = 0
    for i, result in enumerate(results):
        assert len(result) == 3
        for c in range(3):
            expected = canonical(ref[f"{prefix}/{i}/{c}"])
            ours = canonical(result[c])
            assert ours.shape == expected.shape, (name, prefix, i, c)
            np.testing.assert_allclose(ours[:, 4], expected[:, 4], rtol=RTOL, atol=1e-6)
            np.testing.assert_allclose(ours[:, :4], expected[:, :4], rtol=RTOL, atol=1e-3)
            total += len(expected)
    return total


def test_detections_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    results = inference_detector(model, [str(p) for p in IMAGES])
    assert check_detections(name, results, ref, "det") >= 30


def test_detections_with_an_active_nms_pre_cut_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    summary = json.loads((REF / f"reference_{name}.json").read_text())
    head = getattr(model, CUT_HEAD[name])
    saved = dict(head.test_cfg)
    head.test_cfg.update(summary["cut"]["test_cfg"])
    try:
        results = inference_detector(model, [str(p) for p in IMAGES])
    finally:
        head.test_cfg.clear()
        head.test_cfg.update(saved)
    assert check_detections(name, results, ref, "det_cut") >= 30


def test_head_outputs_and_proposals_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    from detbox.apis.inference import _prepare, _test_pipeline
    from detbox.datasets.collate import collate

    data = collate([_prepare(str(IMAGES[0]), _test_pipeline(model.cfg, False))])
    img, metas = data["img"][0], data["img_metas"][0]
    for m in metas:
        m["batch_input_shape"] = tuple(img.shape[-2:])
    head = getattr(model, CUT_HEAD[name])
    with torch.no_grad():
        x = model.extract_feat(img)
        outs = head(x)
        for out_name, levels in zip(("cls_score", "bbox_pred", "shape_pred", "loc_pred"), outs):
            for level, t in enumerate(levels):
                key = f"inter/head/{out_name}/{level}"
                if key in ref:
                    np.testing.assert_allclose(t.numpy(), ref[key], rtol=1e-4, atol=1e-4)
                else:
                    idx = ref[f"{key}/sample_idx"]
                    np.testing.assert_allclose(t.reshape(-1)[idx].numpy(),
                                               ref[f"{key}/samples"], rtol=1e-4, atol=1e-4)
        kept = [int((t.sigmoid() >= head.loc_filter_thr).sum()) for t in outs[3]]
        np.testing.assert_array_equal(kept, ref["inter/loc_kept"])
        if name != "ga_faster":
            return
        proposals = head.simple_test_rpn(x, metas)[0]
    assert proposals.shape[0] == int(ref["inter/proposals/num"])
    expected = ref["inter/proposals/first"]
    np.testing.assert_allclose(proposals[:len(expected)].numpy(), expected, rtol=RTOL,
                               atol=1e-3)


@pytest.mark.parametrize("name", list(MODELS))
def test_training_step_losses_equal_mmdetection(name):
    assert_training_step_equals_reference(REF, name, MODELS[name], calibrated_state_dict(name))
