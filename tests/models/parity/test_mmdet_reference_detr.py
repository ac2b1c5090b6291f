"""Same weights, same images, same detections and training losses as real MMDetection 2.28.2
for DETR, Deformable DETR (plain, box refinement, two-stage) and Sparse R-CNN.

The reference outputs were recorded with MMDetection itself (tests/data/mmdet_reference_detr/,
README there); the weights are regenerated bit for bit from a seed.
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
from detbox.engine.optim import build_optimizer
from detbox.models.builder import build_detector
from tests.conftest import DATA

# MMDetection's DETR configs use mmcv's deprecated arguments (mmcv warns, and so do we)
pytestmark = [pytest.mark.filterwarnings("ignore:The arguments `:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:The argument `dropout`:DeprecationWarning")]

REF = DATA / "mmdet_reference_detr"
IMAGES = sorted((DATA / "mmdet_reference" / "images").glob("img*.png"))
MODELS = {
    "detr": "detr_r18_tiny.py",
    "deformable_detr": "deformable_detr_r18_tiny.py",
    "deformable_detr_refine": "deformable_detr_refine_r18_tiny.py",
    "deformable_detr_twostage_refine": "deformable_detr_twostage_refine_r18_tiny.py",
    "sparse_rcnn": "sparse_rcnn_r18_fpn_tiny.py",
}
RTOL = 5e-4  # boxes and scores
LOSS_RTOL = 1e-4


def calibrated_state_dict(keys_json):
    spec = importlib.util.spec_from_file_location("calibrated_weights_detr",
                                                  REF / "calibrated_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_dict_from_keys_json(str(keys_json))


@pytest.fixture(scope="module", params=list(MODELS))
def model_and_ref(request):
    name = request.param
    model = init_detector(REF / "configs" / MODELS[name])
    keys = json.loads((REF / f"keys_{name}.json").read_text())["keys"]
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    assert ours == [(k, tuple(shape)) for k, shape, _ in keys]  # names, shapes and order
    model.load_state_dict(calibrated_state_dict(REF / f"keys_{name}.json"), strict=True)
    summary = json.loads((REF / f"reference_{name}.json").read_text())
    return name, model, np.load(REF / f"reference_{name}.npz"), summary


def _by_score(dets):
    return dets[np.argsort(-dets[:, 4], kind="stable")]


def check_same_detections(ours, expected):
    """Same count, same sorted scores, and each reference row has a distinct row of ours with
    the same box and score (order-free: near-tied scores may come out in either order)."""
    assert ours.shape == expected.shape
    ours, expected = _by_score(ours), _by_score(expected)
    np.testing.assert_allclose(ours[:, 4], expected[:, 4], rtol=RTOL, atol=1e-6)
    free = list(range(len(ours)))
    for row in expected:
        close = [j for j in free
                 if abs(ours[j, 4] - row[4]) <= RTOL * abs(row[4]) + 1e-6
                 and np.allclose(ours[j, :4], row[:4], rtol=RTOL, atol=1e-3)]
        assert close, f"no detection of ours matches {row.tolist()}"
        free.remove(close[0])


def test_detections_equal_mmdetection(model_and_ref):
    name, model, ref, _ = model_and_ref
    results = inference_detector(model, [str(p) for p in IMAGES])
    total = 0
    for i, result in enumerate(results):
        assert len(result) == 3
        for c in range(3):
            check_same_detections(result[c], ref[f"det/{i}/{c}"])
            total += len(result[c])
    assert total >= 60


def _batch(model, paths):
    data = collate([_prepare(str(p), _test_pipeline(model.cfg, False)) for p in paths])
    img, metas = data["img"][0], data["img_metas"][0]
    for m in metas:
        m["batch_input_shape"] = tuple(img.shape[-2:])
    return img, metas


def test_last_layer_outputs_equal_mmdetection(model_and_ref):
    name, model, ref, _ = model_and_ref
    img, metas = _batch(model, IMAGES[:1])
    with torch.no_grad():
        feats = model.extract_feat(img)
        if name == "sparse_rcnn":
            captured = {}
            orig = model.roi_head._bbox_forward

            def capture(*args, **kwargs):
                out = orig(*args, **kwargs)
                captured.update(cls=out["cls_score"], boxes=out["decode_bbox_pred"])
                return out

            model.roi_head._bbox_forward = capture
            try:
                boxes, prop_feats, whwh = model.rpn_head.simple_test_rpn(feats, metas)
                model.roi_head.simple_test(feats, boxes, prop_feats, metas, imgs_whwh=whwh)
            finally:
                del model.roi_head._bbox_forward
            cls, boxes = captured["cls"][0], captured["boxes"]
        else:
            outs = model.bbox_head(feats, metas)
            if name == "detr":
                cls, boxes = outs[0][-1][-1][0], outs[1][-1][-1][0]
            else:
                cls, boxes = outs[0][-1][0], outs[1][-1][0]
    np.testing.assert_allclose(cls.numpy(), ref["inter/cls_score"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(boxes.numpy(), ref["inter/bbox_pred"], rtol=1e-4, atol=1e-5)


def test_training_losses_equal_mmdetection(model_and_ref):
    name, model, ref, summary = model_and_ref
    img, metas = _batch(model, IMAGES[:2])
    assert img.shape[0] == 2 and metas[0]["img_shape"] != metas[1]["img_shape"]  # padding
    np.testing.assert_allclose(float(img.double().sum()), float(ref["train/input_sum"]),
                               rtol=1e-6)
    gt = summary["train"]["gt"]
    # init_detector drops train_cfg (as MMDetection's does): the training model is built anew
    train_model = build_detector(Config.fromfile(REF / "configs" / MODELS[name]).model)
    train_model.load_state_dict(model.state_dict(), strict=True)
    train_model.train()
    losses = train_model(img=img, img_metas=metas, return_loss=True,
                         gt_bboxes=[torch.tensor(b) for b, _ in gt],
                         gt_labels=[torch.tensor(lab) for _, lab in gt])
    expected = {k[len("loss/"):]: float(ref[k]) for k in ref.files if k.startswith("loss/")}
    assert list(losses) == list(summary["train"]["losses"])
    for key, value in losses.items():
        ours = float(value.detach().double().sum()) if torch.is_tensor(value) else float(value)
        assert ours == pytest.approx(expected[key], rel=LOSS_RTOL, abs=1e-7), key


def test_deformable_detr_recipe_param_groups_equal_mmcvs():
    name = "deformable_detr"
    summary = json.loads((REF / f"reference_{name}.json").read_text())["optimizer"]
    model = init_detector(REF / "configs" / MODELS[name])
    optimizer = build_optimizer(model, summary["config"])
    names = {id(p): n for n, p in model.named_parameters()}
    ours = {names[id(p)]: [g["lr"], g["weight_decay"]] for g in optimizer.param_groups
            for p in g["params"]}
    assert ours.keys() == summary["param_lr_wd"].keys()
    for key, (lr, wd) in summary["param_lr_wd"].items():
        assert ours[key] == pytest.approx([lr, wd], rel=1e-12), key
    slow = [k for k, (lr, _) in ours.items() if lr < 2e-4 * 0.5]
    assert any("sampling_offsets" in k for k in slow) and any("backbone" in k for k in slow)
