"""One-stage models built from our configs have MMDetection 2.28's state_dict layout.

``tests/data/mmdet_reference_one_stage/layouts.json`` was recorded by building each config
(and a few backbones and necks alone) with real MMDetection 2.28.2 (``make_layouts.py``): key
names, shapes and order (SHA-256 of the lines ``"<key> <shape>"``), key and parameter counts.
"""

import hashlib
import json

import pytest

from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.registry import MODELS
from tests.conftest import DATA, REPO

LAYOUTS = json.loads((DATA / "mmdet_reference_one_stage" / "layouts.json").read_text())
MODULES = LAYOUTS.pop("modules")
MODULE_CFGS = {
    "MobileNetV2": dict(type="MobileNetV2"),
    "MobileNetV2(widen_factor=0.75,out_indices=(2,4,6))": dict(
        type="MobileNetV2", widen_factor=0.75, out_indices=(2, 4, 6)),
    "PAFPN": dict(type="PAFPN", in_channels=[256, 512, 1024, 2048], out_channels=256,
                  num_outs=5),
    "ChannelMapper": dict(type="ChannelMapper", in_channels=[512, 1024, 2048], kernel_size=1,
                          out_channels=256, act_cfg=None, norm_cfg=dict(type="GN", num_groups=32),
                          num_outs=4),
}


def check_layout(model, expected):
    sd = model.state_dict()
    assert len(sd) == expected["num_keys"]
    assert sum(p.numel() for p in model.parameters()) == expected["num_params"]
    for key, shape in expected["samples"].items():
        assert list(sd[key].shape) == shape, key
    lines = "\n".join(f"{k} {list(v.shape)}" for k, v in sd.items())
    assert hashlib.sha256(lines.encode()).hexdigest() == expected["sha256"]


def test_retinanet_r50_layout_numbers():
    assert LAYOUTS["retinanet/retinanet_r50_fpn_1x_coco.py"]["num_keys"] == 354
    assert LAYOUTS["retinanet/retinanet_r50_fpn_1x_coco.py"]["samples"][
        "bbox_head.retina_cls.weight"] == [720, 256, 3, 3]


@pytest.mark.parametrize("rel", sorted(LAYOUTS))
def test_state_dict_layout_equals_mmdetection(rel):
    cfg = Config.fromfile(REPO / "configs" / rel)
    cfg.model.backbone.init_cfg = None
    check_layout(build_detector(cfg.model), LAYOUTS[rel])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_layout_equals_mmdetection(name):
    assert set(MODULES) == set(MODULE_CFGS)
    check_layout(MODELS.build(dict(MODULE_CFGS[name])), MODULES[name])
