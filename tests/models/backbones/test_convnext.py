"""ConvNeXt (mmcls 0.25 layout): shapes, options, freezing, mmcls names, Pretrained prefix."""

import logging

import pytest
import torch

from detbox.config import Config
from detbox.models.backbones import ConvNeXt
from detbox.models.layers import LayerNorm2d
from detbox.registry import MODELS

ARCH = dict(depths=[1, 1, 2, 1], channels=[8, 16, 24, 32])


def test_outputs_layout_and_options():
    torch.manual_seed(0)
    net = ConvNeXt(arch=ARCH, out_indices=[0, 1, 2, 3], gap_before_final_norm=False).eval()
    x = torch.randn(2, 3, 70, 90)
    assert [tuple(f.shape) for f in net(x)] == [(2, 8, 17, 22), (2, 16, 8, 11), (2, 24, 4, 5),
                                                (2, 32, 2, 2)]
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes["downsample_layers.0.0.weight"] == (8, 3, 4, 4)
    assert shapes["downsample_layers.1.1.weight"] == (16, 8, 2, 2)
    assert shapes["stages.2.1.pointwise_conv1.weight"] == (96, 24)  # nn.Linear
    assert shapes["stages.2.1.gamma"] == (24,) and shapes["norm3.weight"] == (32,)
    assert isinstance(net.downsample_layers[1][0], LayerNorm2d)
    assert net.downsample_layers[1][0].eps == 1e-5 and net.norm0.eps == 1e-6
    # classification defaults: last stage only, pooled before the norm
    cls = ConvNeXt(arch=ARCH).eval()
    assert [tuple(f.shape) for f in cls(x)] == [(2, 32)]
    assert not hasattr(cls, "norm0") and cls.out_indices == [3]
    conv = ConvNeXt(arch=ARCH, linear_pw_conv=False, layer_scale_init_value=0)
    assert tuple(conv.stages[0][0].pointwise_conv1.weight.shape) == (32, 8, 1, 1)
    assert conv.stages[0][0].gamma is None
    with pytest.raises(KeyError, match="huge"):
        ConvNeXt(arch="huge")


def test_linear_and_conv_pointwise_agree_and_checkpointing_matches():
    torch.manual_seed(0)
    lin = ConvNeXt(arch=ARCH, out_indices=[3], gap_before_final_norm=False).eval()
    conv = ConvNeXt(arch=ARCH, out_indices=[3], gap_before_final_norm=False,
                    linear_pw_conv=False).eval()
    state = {k: v.view(*v.shape, 1, 1) if "pointwise" in k and v.ndim == 2 else v
             for k, v in lin.state_dict().items()}
    conv.load_state_dict(state)
    x = torch.randn(1, 3, 64, 64)
    torch.testing.assert_close(conv(x)[0], lin(x)[0], rtol=1e-4, atol=1e-5)
    cp = ConvNeXt(arch=ARCH, out_indices=[3], gap_before_final_norm=False, with_cp=True)
    cp.load_state_dict(lin.state_dict())
    cp.train()
    lin.train()
    x.requires_grad_(True)
    out_cp, out = cp(x)[0], lin(x)[0]
    torch.testing.assert_close(out_cp, out)
    out_cp.sum().backward()
    grad = cp.stages[0][0].depthwise_conv.weight.grad.clone()
    out.sum().backward()
    torch.testing.assert_close(grad, lin.stages[0][0].depthwise_conv.weight.grad)


def test_frozen_stages_stay_frozen_in_train_mode():
    net = ConvNeXt(arch=ARCH, out_indices=[0, 1, 2, 3], frozen_stages=2, drop_path_rate=0.2)
    net.train()
    for i in range(2):
        assert not any(p.requires_grad for p in net.stages[i].parameters())
        assert not any(p.requires_grad for p in net.downsample_layers[i].parameters())
        assert not net.stages[i].training
    assert all(p.requires_grad for p in net.stages[2].parameters())
    assert net.stages[3].training
    rates = [b.drop_path.drop_prob for s in net.stages[1:] for b in s]
    assert rates == pytest.approx([0.2 / 4, 0.2 * 2 / 4, 0.2 * 3 / 4, 0.2])


def test_mmcls_type_name_custom_imports_and_pretrained_prefix(tmp_path, caplog):
    src = ConvNeXt(arch=ARCH, out_indices=[0, 1, 2, 3], gap_before_final_norm=False)
    ckpt = tmp_path / "convnext_cls.pth"
    state = {f"backbone.{k}": v for k, v in src.state_dict().items()}
    state["head.fc.weight"] = torch.zeros(10, 32)
    torch.save({"state_dict": state, "meta": {}}, ckpt)
    cfg_file = tmp_path / "cfg.py"
    cfg_file.write_text(
        "custom_imports = dict(imports=['mmcls.models'], allow_failed_imports=False)\n"
        f"backbone = dict(type='mmcls.ConvNeXt', arch={ARCH!r}, out_indices=[0, 1, 2, 3],\n"
        "    gap_before_final_norm=False, drop_path_rate=0.1, layer_scale_init_value=1.0,\n"
        f"    init_cfg=dict(type='Pretrained', checkpoint={str(ckpt)!r}, prefix='backbone.'))\n")
    with caplog.at_level(logging.INFO, logger="detbox"):
        cfg = Config.fromfile(cfg_file)
    assert "'mmcls.models' is provided by detbox's own implementation" in caplog.text
    net = MODELS.build(cfg.backbone)
    assert type(net) is ConvNeXt
    net.init_weights()
    for key, value in src.state_dict().items():
        assert torch.equal(net.state_dict()[key], value), key
