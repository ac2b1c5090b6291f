"""Record the state_dict layout MMDetection 2.28.2 builds for each one-stage config we ship.

Run with the side venv that has mmcv-full 1.7.x and mmdet 2.28.2 (see README.md)::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_one_stage/make_layouts.py

Writes ``layouts.json``: per config (path under MMDetection's ``configs/``), the number of
state_dict keys and of parameters, the SHA-256 of the lines ``"<key> <shape>"`` in state_dict
order, and a few keys with their shapes; the same for the backbones and necks of ``MODULES``
built alone (under ``"modules"``).
"""

import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = [
    "retinanet/retinanet_r18_fpn_1x_coco.py",
    "retinanet/retinanet_r50_fpn_1x_coco.py",
    "retinanet/retinanet_r50_fpn_2x_coco.py",
    "retinanet/retinanet_r101_fpn_1x_coco.py",
    "retinanet/retinanet_r101_fpn_2x_coco.py",
    "retinanet/retinanet_x101_32x4d_fpn_1x_coco.py",
    "retinanet/retinanet_x101_32x4d_fpn_2x_coco.py",
    "retinanet/retinanet_x101_64x4d_fpn_1x_coco.py",
    "retinanet/retinanet_x101_64x4d_fpn_2x_coco.py",
    "fcos/fcos_r50_caffe_fpn_gn-head_1x_coco.py",
    "fcos/fcos_center_r50_caffe_fpn_gn-head_1x_coco.py",
    "fcos/fcos_center-normbbox-centeronreg-giou_r50_caffe_fpn_gn-head_1x_coco.py",
    "fcos/fcos_r101_caffe_fpn_gn-head_1x_coco.py",
    "atss/atss_r50_fpn_1x_coco.py",
    "atss/atss_r101_fpn_1x_coco.py",
    "dyhead/atss_r50_fpn_dyhead_1x_coco.py",
    "dyhead/atss_r50_caffe_fpn_dyhead_1x_coco.py",
]
# Modules built alone: name -> config dict.
MODULES = {
    "MobileNetV2": dict(type="MobileNetV2"),
    "MobileNetV2(widen_factor=0.75,out_indices=(2,4,6))": dict(
        type="MobileNetV2", widen_factor=0.75, out_indices=(2, 4, 6)),
    "PAFPN": dict(type="PAFPN", in_channels=[256, 512, 1024, 2048], out_channels=256,
                  num_outs=5),
    "ChannelMapper": dict(type="ChannelMapper", in_channels=[512, 1024, 2048], kernel_size=1,
                          out_channels=256, act_cfg=None, norm_cfg=dict(type="GN", num_groups=32),
                          num_outs=4),
}
SAMPLE_KEYS = ("bbox_head.retina_cls.weight", "bbox_head.retina_reg.weight",
               "bbox_head.conv_cls.weight", "bbox_head.conv_reg.weight",
               "bbox_head.conv_centerness.weight", "bbox_head.atss_cls.weight",
               "bbox_head.atss_reg.weight", "bbox_head.atss_centerness.weight",
               "bbox_head.scales.0.scale", "bbox_head.cls_convs.0.gn.weight",
               "neck.1.dyhead_blocks.0.spatial_conv_high.conv.weight",
               "neck.1.dyhead_blocks.0.spatial_conv_offset.weight")


def layout_lines(state_dict):
    return [f"{k} {list(v.shape)}" for k, v in state_dict.items()]


def layout(model):
    sd = model.state_dict()
    return dict(
        num_keys=len(sd),
        num_params=sum(p.numel() for p in model.parameters()),
        sha256=hashlib.sha256("\n".join(layout_lines(sd)).encode()).hexdigest(),
        samples={k: list(sd[k].shape) for k in SAMPLE_KEYS if k in sd},
    )


def main():
    import mmdet
    from mmcv import Config
    from mmdet.models import build_backbone, build_detector, build_neck

    root = Path(mmdet.__file__).parent / ".mim" / "configs"
    out = {}
    for rel in CONFIGS:
        cfg = Config.fromfile(str(root / rel))
        out[rel] = layout(build_detector(cfg.model))
        print(rel, out[rel]["num_keys"], file=sys.stderr)
    out["modules"] = {}
    for name, module_cfg in MODULES.items():
        build = build_backbone if module_cfg["type"] == "MobileNetV2" else build_neck
        out["modules"][name] = layout(build(dict(module_cfg)))
    text = json.dumps(out, indent=1)
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    (HERE / "layouts.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
