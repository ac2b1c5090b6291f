"""Our RetinaNet and FCOS R50-FPN against torchvision's on the same (converted) random weights.

torchvision's weights are re-drawn at a unit-ish scale (its own head init, std 0.01, would leave
outputs close to the biases), converted with ``detbox.models.weight_converters_one_stage`` and
loaded with ``strict=True``; features and head outputs must agree to 1e-4.
"""

import math

import torch
import torchvision

from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.models.weight_converters_one_stage import (
    convert_torchvision_fcos,
    convert_torchvision_retinanet,
)
from tests.conftest import REPO


def redraw(model):
    """Unit-scale random weights and non-trivial BN statistics / GN affine parameters."""
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 4:
                p.normal_(0, math.sqrt(2.0 / p[0].numel()) * (0.5 if "head" in name else 1.0))
            elif "bn" in name or "downsample.1" in name or ".gn" in name or (
                    "head" in name and p.dim() == 1 and name.endswith("weight")):
                p.uniform_(0.5, 1.5) if name.endswith("weight") else p.normal_(0, 0.1)
            else:
                p.normal_(0, 0.1)
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_(0, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
    return model.eval()


def build(rel, **overrides):
    cfg = Config.fromfile(REPO / "configs" / rel)
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.style = "pytorch"
    cfg.model.bbox_head.num_classes = 91
    cfg.model.neck.update(add_extra_convs="on_output", relu_before_extra_convs=True)
    cfg.model.bbox_head.update(overrides)
    return build_detector(cfg.model).eval()


def flat(levels, channels):
    """Per-level ``[N, A*C, H, W]`` -> ``[N, sum(H*W*A), C]`` (torchvision's layout)."""
    return torch.cat([t.permute(0, 2, 3, 1).reshape(t.shape[0], -1, channels) for t in levels], 1)


def check_features(tv, ours, x):
    tv_feats = list(tv.backbone(x).values())
    our_feats = ours.extract_feat(x)
    assert len(tv_feats) == len(our_feats) == 5
    for a, b in zip(tv_feats, our_feats):
        assert a.shape == b.shape
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
    return tv_feats


def test_retinanet_features_and_head_outputs_match():
    tv = redraw(torchvision.models.detection.retinanet_resnet50_fpn(
        weights=None, weights_backbone=None))
    ours = build("retinanet/retinanet_r50_fpn_1x_coco.py")
    report = ours.load_state_dict(convert_torchvision_retinanet(tv.state_dict()), strict=True)
    assert not report.missing_keys and not report.unexpected_keys
    torch.manual_seed(2)
    x = torch.randn(1, 3, 160, 192)
    with torch.no_grad():
        feats = check_features(tv, ours, x)
        expected = tv.head(feats)
        cls_scores, bbox_preds = ours.bbox_head(feats)
    assert expected["cls_logits"].std() > 0.5  # outputs far from the biases alone
    torch.testing.assert_close(flat(cls_scores, 91), expected["cls_logits"], rtol=1e-4,
                               atol=1e-4)
    torch.testing.assert_close(flat(bbox_preds, 4), expected["bbox_regression"], rtol=1e-4,
                               atol=1e-4)


def test_fcos_features_and_head_outputs_match():
    tv = redraw(torchvision.models.detection.fcos_resnet50_fpn(
        weights=None, weights_backbone=None))
    ours = build("fcos/fcos_center-normbbox-centeronreg-giou_r50_caffe_fpn_gn-head_1x_coco.py")
    report = ours.load_state_dict(convert_torchvision_fcos(tv.state_dict()), strict=True)
    assert not report.missing_keys and not report.unexpected_keys
    torch.manual_seed(3)
    x = torch.randn(1, 3, 160, 192)
    with torch.no_grad():
        feats = check_features(tv, ours, x)
        expected = tv.head(feats)
        cls_scores, bbox_preds, centernesses = ours.bbox_head(feats)
    assert expected["cls_logits"].std() > 0.5
    torch.testing.assert_close(flat(cls_scores, 91), expected["cls_logits"], rtol=1e-4,
                               atol=1e-4)
    # torchvision regresses in units of the stride (anchor size); ours in pixels at test time
    strides = ours.bbox_head.strides
    in_strides = [b / s for b, s in zip(bbox_preds, strides)]
    torch.testing.assert_close(flat(in_strides, 4), expected["bbox_regression"], rtol=1e-4,
                               atol=1e-4)
    torch.testing.assert_close(flat(centernesses, 1), expected["bbox_ctrness"], rtol=1e-4,
                               atol=1e-4)
