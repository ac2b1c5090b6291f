"""Same weights, same input, same features and gradients as real MMDetection 2.28.2 for
ResNet / ResNeXt backbones with DCN / DCNv2 and for Res2Net (with and without DCNv2); same
detections and training-step losses for a tiny GFL on a DCNv2 ResNet-50.

The reference was recorded with MMDetection and mmcv-full 1.7.2's compiled CPU deformable
convolutions (``tests/data/mmdet_reference_dcn/``, its README has the measured deltas); the
weights are regenerated bit for bit from a seed, the input from two PNG crops, and the
summaries (seeded samples, norms, random projections) by the recorder's own functions. The
GFL is recorded and checked as in the GFL family's parity test (its helpers reused): counts
equal, scores and boxes within 5e-4 relative, every loss term within 1e-4 relative.
"""

import importlib.util
import json

import numpy as np
import pytest

from detbox.apis import inference_detector, init_detector
from detbox.config import Config
from detbox.models.builder import build_backbone, build_detector
from tests.conftest import DATA
from tests.models.parity.test_mmdet_reference_gfl_tood_vfnet import (
    IMAGES,
    _assert_losses_close,
    _train_batch,
    check_detections,
)

REF = DATA / "mmdet_reference_dcn"
RTOL = 1e-4


def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, REF / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RECORDER = _load("dcn_make_reference", "make_reference.py")
WEIGHTS = _load("dcn_calibrated_weights", "calibrated_weights.py")
RECORDER_GT = _load("dcn_gfl_make_reference",
                    "../mmdet_reference_gfl_tood_vfnet/make_reference.py")  # batch, losses


def _close(ours, theirs, label, scale=None):
    """``|ours - theirs| <= RTOL * (|theirs| + 1e-2 * scale)``: relative, with a floor of 1% of
    the tensor's scale for values that happen to be near zero."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    scale = np.abs(theirs).max() if scale is None else scale
    bound = RTOL * (np.abs(theirs) + 1e-2 * scale)
    worst = np.max(np.abs(ours - theirs) - bound)
    assert worst <= 0, f"{label}: off by up to {np.max(np.abs(ours - theirs)):.3g}"


@pytest.mark.parametrize("case", RECORDER.CASES)
def test_features_and_gradients_equal_mmdetection(case):
    model = build_backbone(Config.fromfile(REF / "configs" / f"{case}.py").model)
    keys = json.loads((REF / f"keys_{case}.json").read_text())["keys"]
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == \
        [(k, s) for k, s, _ in keys]  # MMDetection's names, shapes and order
    model.load_state_dict(WEIGHTS.state_dict_from_keys_json(REF / f"keys_{case}.json"),
                          strict=True)
    ref = np.load(REF / f"reference_{case}.npz")
    summary = json.loads((REF / f"reference_{case}.json").read_text())

    outs, grad_x, grads = RECORDER.run(model, RECORDER.input_batch())
    assert [list(o.shape) for o in outs] == summary["out_shapes"]
    for i, out in enumerate(outs):
        got = RECORDER.summarize(out)
        _close(got["sample"], ref[f"out/{i}/sample"], f"{case} out {i}",
               scale=summary["out_max_abs"][i])
        _close(got["norm"], ref[f"out/{i}/norm"], f"{case} out {i} norm")
        _close(got["proj"], ref[f"out/{i}/proj"], f"{case} out {i} projection",
               scale=float(ref[f"out/{i}/norm"]))
    got = RECORDER.summarize(grad_x)
    _close(got["sample"], ref["grad/input/sample"], f"{case} input grad",
           scale=summary["grad_input_max_abs"])
    _close(got["norm"], ref["grad/input/norm"], f"{case} input grad norm")
    names, norm, proj = RECORDER.grad_summaries(grads)
    assert names == summary["grad_names"]
    _close(norm, ref["grad/norm"], f"{case} parameter grad norms")
    _close(proj, ref["grad/proj"], f"{case} parameter grad projections",
           scale=float(ref["grad/norm"].max()))


def _gfl_dcnv2(cfg_model=None):
    name = "gfl_dcnv2"
    cfg = REF / RECORDER.DETECTORS[name]
    model = init_detector(cfg) if cfg_model is None else build_detector(cfg_model)
    keys = json.loads((REF / f"keys_{name}.json").read_text())["keys"]
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == \
        [(k, s) for k, s, _ in keys]
    model.load_state_dict(WEIGHTS.state_dict_from_keys_json(REF / f"keys_{name}.json"),
                          strict=True)
    return model


def test_dcnv2_gfl_detections_equal_mmdetection():
    model = _gfl_dcnv2()
    ref = np.load(REF / "reference_gfl_dcnv2.npz")
    results = inference_detector(model, [str(p) for p in IMAGES])
    assert check_detections("gfl_dcnv2", results, ref, "det") == 37 + 26 + 44


def test_dcnv2_gfl_training_step_losses_equal_mmdetection():
    step_ref = json.loads((REF / "reference_gfl_dcnv2.json").read_text())["train_step"]
    cfg = Config.fromfile(REF / RECORDER.DETECTORS["gfl_dcnv2"])
    model = _gfl_dcnv2(cfg.model).train()
    img, metas = _train_batch(cfg)
    assert list(img.shape) == step_ref["input_shape"]
    (step,) = step_ref["steps"]
    gt_bboxes, gt_labels = RECORDER_GT.gt_tensors()
    losses = model.forward_train(img, metas, gt_bboxes, gt_labels)
    _assert_losses_close(RECORDER_GT.loss_values(losses), step["losses"], "gfl_dcnv2")
    loss, _ = model._parse_losses(losses)
    np.testing.assert_allclose(float(loss.detach()), step["total"], rtol=1e-4)
