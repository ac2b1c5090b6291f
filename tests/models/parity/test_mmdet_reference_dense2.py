"""Same weights, same image, same detections and losses as real MMDetection 2.28.2 for FSAF,
YOLOF, PAA, RepPoints (moment, and grid points with minmax), RetinaNet with GHM losses,
FreeAnchor, AutoAssign, FoveaBox (plain, and aligned with a GN head), NAS-FCOS and DDOD.

The reference outputs were recorded with MMDetection itself and mmcv-full 1.7.2's compiled CPU
ops (``tests/data/mmdet_reference_dense2/``, README there); the weights are regenerated bit for
bit from a seed. Detections: counts equal, boxes and scores within 5e-4 relative. One training
step on a fixed batch: every loss within 1e-4 relative.
"""

import importlib.util
import json

import numpy as np
import pytest
import torch

from detbox.apis import inference_detector, init_detector
from tests.conftest import DATA
from tests.models.parity.reference_steps import IMAGES, assert_training_step_equals_reference

REF = DATA / "mmdet_reference_dense2"
MODELS = {
    "fsaf": "fsaf_r18_fpn_tiny.py",
    "yolof": "yolof_r18_c5_tiny.py",
    "paa": "paa_r18_fpn_tiny.py",
    "reppoints": "reppoints_moment_r18_fpn_gn-neck+head_tiny.py",
    "reppoints_grid": "bbox_r18_grid_fpn_gn-neck+head_tiny.py",
    "ghm": "retinanet_ghm_r18_fpn_tiny.py",
    "free_anchor": "retinanet_free_anchor_r18_fpn_tiny.py",
    "autoassign": "autoassign_r18_fpn_tiny.py",
    "fovea": "fovea_r18_fpn_tiny.py",
    "fovea_align": "fovea_align_r18_fpn_gn-head_tiny.py",
    "nas_fcos": "nas_fcos_nashead_r18_fpn_gn-head_tiny.py",
    "ddod": "ddod_r18_fpn_tiny.py",
}
RTOL = 5e-4
# the grid-point RepPoints repeats RepPoints' code paths with other options; GHM, FreeAnchor and
# AutoAssign are optional in the issue: slow-marked
PARAMS = [pytest.param(name, marks=pytest.mark.slow)
          if name in ("reppoints_grid", "ghm", "free_anchor", "autoassign") else name
          for name in MODELS]


def calibrated_state_dict(name):
    spec = importlib.util.spec_from_file_location("calibrated_weights_dense2",
                                                  REF / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_dict_from_keys_json(str(REF / f"keys_{name}.json"))


@pytest.fixture(scope="module", params=PARAMS)
def model_and_ref(request):
    name = request.param
    # NCHW, the layout MMDetection runs (channels-last moves the grid-point RepPoints' boxes by
    # up to 0.01 px: that model is sensitive at this level, see README.md there)
    model = init_detector(REF / "configs" / MODELS[name], cfg_options=dict(channels_last=False))
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    theirs = [(k, tuple(shape)) for k, shape, _ in
              json.loads((REF / f"keys_{name}.json").read_text())["keys"]]
    assert ours == theirs  # MMDetection's key names, shapes and order
    model.load_state_dict(calibrated_state_dict(name), strict=True)
    return name, model, np.load(REF / f"reference_{name}.npz")


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


def test_detections_with_an_active_nms_pre_cut_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    saved = dict(model.bbox_head.test_cfg)
    model.bbox_head.test_cfg.update(nms_pre=30, score_thr=0.02)
    try:
        results = inference_detector(model, [str(p) for p in IMAGES])
    finally:
        model.bbox_head.test_cfg.update(saved)
    assert check_detections(name, results, ref, "det_cut") >= 30


def test_head_outputs_equal_mmdetection(model_and_ref):
    name, model, ref = model_and_ref
    from detbox.apis.inference import _prepare, _test_pipeline
    from detbox.datasets.collate import collate

    data = collate([_prepare(str(IMAGES[0]), _test_pipeline(model.cfg, False))])
    img, metas = data["img"][0], data["img_metas"][0]
    for m in metas:
        m["batch_input_shape"] = tuple(img.shape[-2:])
    with torch.no_grad():
        outs = model.bbox_head(model.extract_feat(img))
        names = ("cls_score", "bbox_pred", "centerness")[:len(outs)]
        for out_name, levels in zip(names, outs):
            for level, t in enumerate(levels):
                key = f"inter/head/{out_name}/{level}"
                if key in ref:
                    np.testing.assert_allclose(t.numpy(), ref[key], rtol=1e-4, atol=1e-4)
                else:
                    idx = ref[f"{key}/sample_idx"]
                    np.testing.assert_allclose(t.reshape(-1)[idx].numpy(),
                                               ref[f"{key}/samples"], rtol=1e-4, atol=1e-4)
        if "inter/cand/num" not in ref:  # PAA: no with_nms=False path
            return
        bboxes, scores, labels = model.bbox_head.get_bboxes(*outs, img_metas=metas,
                                                            rescale=True, with_nms=False)[0]
    assert scores.numel() == int(ref["inter/cand/num"])
    order = torch.argsort(scores, descending=True, stable=True)
    first = torch.cat([bboxes[order], scores[order, None], labels[order, None].float()], 1)
    expected = ref["inter/cand/first"]
    np.testing.assert_array_equal(first[:len(expected), 5].numpy(), expected[:, 5])
    np.testing.assert_allclose(first[:len(expected), :5].numpy(), expected[:, :5], rtol=RTOL,
                               atol=1e-3)


@pytest.mark.parametrize("name", PARAMS)
def test_training_step_losses_equal_mmdetection(name):
    assert_training_step_equals_reference(REF, name, MODELS[name], calibrated_state_dict(name))
