"""Our Faster R-CNN R50-FPN against torchvision's on the same (converted) random weights."""

import pytest
import torch
import torchvision

from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.models.weight_converters import convert_torchvision_faster_rcnn
from tests.conftest import REPO


@pytest.fixture(scope="module")
def pair():
    torch.manual_seed(0)
    tv = torchvision.models.detection.fasterrcnn_resnet50_fpn(
        weights=None, weights_backbone=None, num_classes=4).eval()
    with torch.no_grad():  # non-trivial frozen BN statistics
        for name, buf in tv.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_(0, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
            elif name.endswith(".weight") and "bn" in name:
                buf.uniform_(0.5, 1.5)
    cfg = Config.fromfile(REPO / "configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py")
    cfg.model.backbone.init_cfg = None
    cfg.model.roi_head.bbox_head.num_classes = 3
    ours = build_detector(cfg.model).eval()
    report = ours.load_state_dict(convert_torchvision_faster_rcnn(tv.state_dict()), strict=True)
    assert not report.missing_keys and not report.unexpected_keys
    return tv, ours


def test_features_and_rpn_outputs_match(pair):
    tv, ours = pair
    x = torch.randn(1, 3, 224, 288)
    with torch.no_grad():
        tv_feats = list(tv.backbone(x).values())
        our_feats = ours.extract_feat(x)
        assert len(tv_feats) == len(our_feats) == 5
        for a, b in zip(tv_feats, our_feats):
            assert a.shape == b.shape
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
        tv_cls, tv_reg = tv.rpn.head(tv_feats)
        our_cls, our_reg = ours.rpn_head(our_feats)
        for a, b in zip(tv_cls + tv_reg, our_cls + our_reg):
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)


def test_box_head_matches_on_the_same_pooled_features(pair):
    tv, ours = pair
    pooled = torch.randn(6, 256, 7, 7)
    with torch.no_grad():
        tv_cls, tv_reg = tv.roi_heads.box_predictor(tv.roi_heads.box_head(pooled))
        our_cls, our_reg = ours.roi_head.bbox_head(pooled)
    torch.testing.assert_close(our_cls, tv_cls[:, [1, 2, 3, 0]], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(our_reg, tv_reg[:, 4:], rtol=1e-4, atol=1e-5)
