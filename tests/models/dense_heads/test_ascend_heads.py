"""The Ascend heads and assigner: same losses as real MMDetection's Ascend versions.

``tests/data/mmdet_reference_ascend/reference_ascend.json`` was recorded with MMDetection
2.28.2 (``make_reference.py`` there): one training step of the SSD300 and tiny RetinaNet
reference models (the weights and batches of ``mmdet_reference_ssd`` / ``_one_stage``) with
the plain and the Ascend heads; MMDetection's two agree except when a ground truth overlaps no
anchor (``AscendMaxIoUAssigner``'s low-quality rule), and detbox reproduces both sides.
"""

import importlib.util
import json

import numpy as np
import pytest
import torch

from detbox.apis import inference_detector
from detbox.apis.inference import _prepare, _test_pipeline
from detbox.config import Config
from detbox.datasets.collate import collate
from detbox.models.builder import build_detector
from detbox.models.task_modules.assigners import AscendMaxIoUAssigner, MaxIoUAssigner
from detbox.registry import MODELS
from tests.conftest import DATA

REF = DATA / "mmdet_reference_ascend"
IMAGES = sorted((DATA / "mmdet_reference" / "images").glob("img*.png"))


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE = _module("make_reference_ascend", REF / "make_reference.py")
SSD_MAKE = _module("make_reference_ssd_for_ascend",
                   DATA / "mmdet_reference_ssd" / "make_reference.py")
SSD_CW = _module("calibrated_weights_ssd_for_ascend",
                 DATA / "mmdet_reference_ssd" / "calibrated_weights.py")
ONE_CW = _module("calibrated_weights_one_stage_for_ascend",
                 DATA / "mmdet_reference_one_stage" / "calibrated_weights.py")
RECORDED = json.loads((REF / "reference_ascend.json").read_text())
CASES = {
    "ssd300": (MAKE.SSD_CONFIG, DATA / "mmdet_reference_ssd" / "keys_ssd300.json", SSD_CW,
               SSD_MAKE.TRAIN_GTS),
    "retinanet": (MAKE.RETINA_CONFIG, DATA / "mmdet_reference_one_stage" / "keys_retinanet.json",
                  ONE_CW, MAKE.RETINA_GTS),
}


def _config(name, ascend):
    cfg = Config.fromfile(CASES[name.split("_outside")[0]][0])
    if ascend:
        cfg.model.bbox_head.type = MAKE.ASCEND_TYPES[cfg.model.bbox_head.type]
        cfg.model.train_cfg.assigner.type = "AscendMaxIoUAssigner"
    return cfg


@pytest.fixture(scope="module")
def models():
    """``models(name, ascend) -> (model, cfg)``: one model per (model, variant), shared by this
    module's tests (gradients zeroed on use) and released after them."""
    built = {}

    def get(name, ascend):
        if (name, ascend) not in built:
            built[name, ascend] = _model(name, ascend)
        return built[name, ascend]

    yield get
    built.clear()


def _model(name, ascend):
    cfg = _config(name, ascend)
    _, keys, cw, _ = CASES[name.split("_outside")[0]]
    model = build_detector(cfg.model)
    model.load_state_dict(cw.state_dict_from_keys_json(keys), strict=True)
    model.use_channels_last(False)  # NCHW as MMDetection
    return model, cfg


def _gts(name):
    gts = CASES[name.split("_outside")[0]][3]
    if name.endswith("outside_gt"):
        (b0, l0), (b1, l1) = gts
        gts = ((b0, l0), (b1 + [MAKE.OUTSIDE_GT[0]], l1 + [MAKE.OUTSIDE_GT[1]]))
    return ([torch.tensor(b, dtype=torch.float32) for b, _ in gts],
            [torch.tensor(lab, dtype=torch.long) for _, lab in gts])


def _train_step(model, cfg, gts, labels, backward):
    data = collate([_prepare(str(p), _test_pipeline(cfg, False)) for p in IMAGES[:2]])
    img, metas = data["img"][0], data["img_metas"][0]
    for m in metas:
        m["batch_input_shape"] = tuple(img.shape[-2:])
    model.train()
    model.zero_grad()
    losses = model.forward_train(img, metas, gts, labels)
    if backward:
        sum(sum(v) for v in losses.values()).backward()
    return losses, dict(model.named_parameters())


# (the SSD300 step runs without backward: VGG-16's backward at 300 px is the slow part, and
# SSDHead's gradients are checked in test_mmdet_reference_ssd.py; MMDetection's Ascend and
# plain heads give the same losses on the plain RetinaNet batch, see the test below)
@pytest.mark.parametrize("name, ascend, backward", [
    ("ssd300", True, False), ("retinanet_outside_gt", True, True),
    ("retinanet_outside_gt", False, True)])
def test_one_training_step_equals_mmdetection(models, name, ascend, backward):
    model, cfg = models(name.split("_outside")[0], ascend)
    expected = RECORDED[name]["ascend" if ascend else "plain"]
    assert type(model.bbox_head).__name__ == expected["head"]
    assert type(model.bbox_head.assigner).__name__ == expected["assigner"]
    losses, params = _train_step(model, cfg, *_gts(name), backward)
    assert sorted(losses) == sorted(expected["losses"])
    for key, values in losses.items():
        np.testing.assert_allclose([float(v.detach()) for v in values], expected["losses"][key],
                                   rtol=1e-4, atol=1e-9, err_msg=f"{name} {key}")
    for key, norm in (expected["grad_norms"] if backward else {}).items():
        np.testing.assert_allclose(float(params[key].grad.norm()), norm, rtol=1e-4,
                                   err_msg=f"{name} grad {key}")


def test_mmdetection_plain_and_ascend_differ_only_for_a_ground_truth_outside_all_anchors():
    for name in ("ssd300", "retinanet"):
        assert RECORDED[name]["plain"]["losses"] == RECORDED[name]["ascend"]["losses"]
    outside = RECORDED["retinanet_outside_gt"]
    assert outside["ascend"]["losses"] == RECORDED["retinanet"]["ascend"]["losses"]
    assert outside["plain"]["losses"]["loss_bbox"][0] > 10 * outside["ascend"]["losses"][
        "loss_bbox"][0]


def test_ascend_ssd_detections_equal_the_ssd_reference(models):
    model, cfg = models("ssd300", True)
    model.cfg = cfg
    model.eval()
    model.zero_grad()
    ref = np.load(DATA / "mmdet_reference_ssd" / "reference_ssd300.npz")
    result = inference_detector(model, str(IMAGES[0]))
    assert sum(len(d) for d in result) == 42  # MMDetection's count for image 0 (README)
    for c, dets in enumerate(result):
        expected = ref[f"det/0/{c}"]
        assert dets.shape == expected.shape
        np.testing.assert_allclose(dets[:, 4], expected[:, 4], rtol=5e-4, atol=1e-7)
        np.testing.assert_allclose(dets[:, :4], expected[:, :4], rtol=5e-4, atol=1e-3)


def _retina_head(**train_cfg):
    cfg = _config("retinanet", True).model
    cfg.train_cfg.update(train_cfg)
    return build_detector(cfg).bbox_head


def test_unsupported_settings_are_named():
    head = _retina_head()
    feats = [torch.zeros(1, head.in_channels, s, s) for s in (8, 4, 2, 1, 1)]
    cls, reg = head(feats)
    meta = [dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3), batch_input_shape=(64, 64))]
    gt, label = [torch.tensor([[8.0, 8.0, 40.0, 40.0]])], [torch.tensor([1])]
    with pytest.raises(ValueError, match="gt_bboxes_ignore is not supported"):
        head.loss(cls, reg, gt, label, meta, gt_bboxes_ignore=[torch.zeros(1, 4)])
    with pytest.raises(ValueError, match="allowed_border must be negative"):
        _retina_head(allowed_border=0).loss(cls, reg, gt, label, meta)
    head.assigner = MaxIoUAssigner(0.5, 0.4)
    with pytest.raises(TypeError, match="assigner must be AscendMaxIoUAssigner"):
        head.loss(cls, reg, gt, label, meta)
    ssd_head = dict(_config("ssd300", True).model.bbox_head, reg_decoded_bbox=True)
    with pytest.raises(ValueError, match="reg_decoded_bbox=True is not supported"):
        MODELS.build(ssd_head)


def test_assigner_equals_max_iou_assigner_when_every_ground_truth_overlaps():
    torch.manual_seed(0)
    xy = torch.rand(200, 2) * 80
    boxes = torch.cat([xy, xy + 5 + torch.rand(200, 2) * 30], 1)
    gts = boxes[torch.tensor([3, 50, 120, 199])] + 2.0
    labels = torch.tensor([0, 2, 1, 1])
    for all_ in (True, False):
        kwargs = dict(pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0.0, gt_max_assign_all=all_)
        a = AscendMaxIoUAssigner(**kwargs).assign(boxes, gts, gt_labels=labels)
        b = MaxIoUAssigner(**kwargs).assign(boxes, gts, gt_labels=labels)
        assert torch.equal(a.gt_inds, b.gt_inds) and torch.equal(a.labels, b.labels)
        assert (a.gt_inds > 0).sum() >= 4
