"""``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')`` loads the backbone
part of a detector checkpoint into every backbone (including those with their own
``init_weights``: PVT, Swin)."""

import pytest
import torch

import detbox.models  # noqa: F401  (registers the backbones)
from detbox.registry import MODELS

BACKBONES = {
    "ResNet": dict(depth=18),
    "ResNeXt": dict(depth=50, groups=4, base_width=4, num_stages=1, out_indices=(0,),
                    strides=(1,), dilations=(1,)),
    "MobileNetV2": dict(widen_factor=0.25),
    "ConvNeXt": dict(arch=dict(depths=[1, 1, 1, 1], channels=[8, 8, 8, 8])),
    "mmcls.ConvNeXt": dict(arch=dict(depths=[1, 1, 1, 1], channels=[8, 8, 8, 8])),
    "PyramidVisionTransformer": dict(embed_dims=4, num_layers=[1, 1, 1, 1], convert_weights=False),
    "PyramidVisionTransformerV2": dict(embed_dims=4, num_layers=[1, 1, 1, 1]),
    "SwinTransformer": dict(embed_dims=8, depths=[1, 1], num_heads=[1, 2], strides=(4, 2),
                            out_indices=(0, 1), window_size=2),
}


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_prefix_loads_the_backbone_of_a_detector_checkpoint(name, tmp_path):
    if MODELS.get(name) is None:
        pytest.fail(f"{name} is not registered")
    torch.manual_seed(0)
    src = MODELS.build(dict(type=name, **BACKBONES[name]))
    with torch.no_grad():
        for p in src.parameters():
            p.normal_()
    state = {f"backbone.{k}": v for k, v in src.state_dict().items()}
    state["neck.conv.weight"] = torch.zeros(1)
    path = tmp_path / "detector.pth"
    torch.save({"meta": {}, "state_dict": state}, path)
    dst = MODELS.build(dict(type=name, **BACKBONES[name], init_cfg=dict(
        type="Pretrained", checkpoint=str(path), prefix="backbone.")))
    dst.init_weights()
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value), key
