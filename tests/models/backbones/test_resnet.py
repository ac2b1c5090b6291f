"""ResNet: torchvision key/number parity, pretrained loading, styles, freezing, stems, errors."""

import pytest
import torch
import torchvision
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from detbox.models.backbones import ResNet, ResNetV1d
from detbox.registry import MODELS, ConfigArgumentError, check_components


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A private torch hub cache; returns its checkpoints folder."""
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    torch.hub.set_dir(str(tmp_path / "hub"))
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def _tv_keys(model: nn.Module) -> dict:
    return {k: tuple(v.shape) for k, v in model.state_dict().items() if not k.startswith("fc.")}


def test_resnet50_keys_equal_torchvision_without_fc():
    ours = {k: tuple(v.shape) for k, v in ResNet(50).state_dict().items()}
    tv = _tv_keys(torchvision.models.resnet50())
    assert list(ours) == list(tv)
    assert ours == tv
    assert "layer1.0.downsample.0.weight" in ours and "layer1.0.downsample.1.running_var" in ours


@pytest.mark.parametrize("depth", [18, 34, 101])
def test_other_depths_keys_equal_torchvision(depth):
    tv = _tv_keys(getattr(torchvision.models, f"resnet{depth}")())
    assert {k: tuple(v.shape) for k, v in ResNet(depth).state_dict().items()} == tv


def test_resnet18_parameter_count():
    tv = torchvision.models.resnet18()
    expected = sum(p.numel() for n, p in tv.named_parameters() if not n.startswith("fc."))
    assert sum(p.numel() for p in ResNet(18).parameters()) == expected == 11176512


def test_pretrained_torchvision_resnet50_matches_its_features(hub):
    torch.manual_seed(0)
    tv = torchvision.models.resnet50()
    for m in tv.modules():  # non-trivial BN statistics, so eval-mode outputs test them
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.0)
    torch.save(tv.state_dict(), hub / "resnet50-0676ba61.pth")
    net = ResNet(50, init_cfg=dict(type="Pretrained", checkpoint="torchvision://resnet50"))
    net.init_weights()
    net.eval()
    tv.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        outs = net(x)
        y = tv.maxpool(tv.relu(tv.bn1(tv.conv1(x))))
        for out, layer in zip(outs, [tv.layer1, tv.layer2, tv.layer3, tv.layer4]):
            y = layer(y)
            torch.testing.assert_close(out, y, rtol=0, atol=1e-5)
    assert [tuple(o.shape) for o in outs] == [(2, 256, 16, 16), (2, 512, 8, 8),
                                              (2, 1024, 4, 4), (2, 2048, 2, 2)]


def test_legacy_pretrained_argument(hub):
    torch.save(torchvision.models.resnet18().state_dict(), hub / "resnet18-f37072fd.pth")
    with pytest.warns(UserWarning, match="pretrained is deprecated"):
        net = ResNet(18, pretrained="torchvision://resnet18")
    assert net.init_cfg == dict(type="Pretrained", checkpoint="torchvision://resnet18")
    net.init_weights()
    with pytest.raises(AssertionError, match="at the same time"):
        ResNet(18, pretrained="x.pth", init_cfg=dict(type="Kaiming"))
    with pytest.raises(TypeError, match="pretrained must be a str"):
        ResNet(18, pretrained=1)


def test_caffe_style_strides_the_first_conv():
    caffe = ResNet(50, style="caffe")
    block = caffe.layer2[0]
    assert (block.conv1.stride, block.conv2.stride) == ((2, 2), (1, 1))
    pytorch = ResNet(50).layer2[0]
    assert (pytorch.conv1.stride, pytorch.conv2.stride) == ((1, 1), (2, 2))
    assert caffe.layer2[0].downsample[0].stride == (2, 2)
    assert caffe.eval()(torch.zeros(1, 3, 32, 32))[1].shape == (1, 512, 4, 4)


def test_frozen_stages_freeze_and_stay_in_eval():
    net = ResNet(18, frozen_stages=1, norm_eval=False)
    frozen = ["conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer1.1.bn2.bias"]
    params = dict(net.named_parameters())
    assert all(not params[k].requires_grad for k in frozen)
    assert params["layer2.0.conv1.weight"].requires_grad
    net.train()
    assert not net.bn1.training and not net.layer1[0].bn1.training
    assert net.layer2[0].bn1.training and net.training
    stem_only = ResNet(18, frozen_stages=0)
    assert not stem_only.conv1.weight.requires_grad
    assert stem_only.layer1[0].conv1.weight.requires_grad


def test_norm_eval_keeps_statistics():
    torch.manual_seed(0)
    net = ResNet(18, norm_eval=True).train()
    assert net.training
    assert all(not m.training for m in net.modules() if isinstance(m, _BatchNorm))
    before = net.layer1[0].bn1.running_mean.clone()
    net(torch.randn(2, 3, 32, 32))
    torch.testing.assert_close(net.layer1[0].bn1.running_mean, before)
    trained = ResNet(18, norm_eval=False).train()
    trained(torch.randn(2, 3, 32, 32))
    assert not torch.equal(trained.layer1[0].bn1.running_mean, before)


def test_norm_requires_grad_false_freezes_every_norm():
    net = ResNet(18, norm_cfg=dict(type="BN", requires_grad=False))
    assert all(not p.requires_grad for n, p in net.named_parameters() if ".bn" in n or "bn1" in n)
    assert net.conv1.weight.requires_grad


def test_deep_stem_and_avg_down():
    net = ResNetV1d(depth=50, frozen_stages=0)
    keys = list(net.state_dict())
    assert keys[:2] == ["stem.0.weight", "stem.1.weight"] and "stem.7.running_var" in keys
    assert "conv1.weight" not in keys
    assert [tuple(net.stem[i].weight.shape) for i in (0, 3, 6)] == \
        [(32, 3, 3, 3), (32, 32, 3, 3), (64, 32, 3, 3)]
    pool, conv, _ = net.layer2[0].downsample
    assert isinstance(pool, nn.AvgPool2d) and conv.stride == (1, 1)
    assert "layer2.0.downsample.1.weight" in keys and "layer2.0.downsample.2.running_mean" in keys
    assert all(not p.requires_grad for p in net.stem.parameters())
    assert net.eval()(torch.zeros(1, 3, 32, 32))[3].shape == (1, 2048, 1, 1)


def test_stages_dilations_out_indices_and_channels():
    net = ResNet(18, num_stages=3, strides=(1, 2, 1), dilations=(1, 1, 2), out_indices=(2,),
                 in_channels=1, base_channels=8, stem_channels=16)
    assert not hasattr(net, "layer4") and net.res_layers == ["layer1", "layer2", "layer3"]
    assert net.layer3[0].conv1.dilation == (2, 2) and net.layer3[0].conv1.padding == (2, 2)
    assert net.conv1.weight.shape == (16, 1, 7, 7) and net.feat_dim == 32
    (out,) = net(torch.zeros(1, 1, 32, 32))
    assert out.shape == (1, 32, 4, 4)
    with pytest.raises(AssertionError, match="out_indices"):
        ResNet(18, num_stages=2, strides=(1, 2), dilations=(1, 1))


def test_with_cp_gives_the_same_outputs_and_gradients():
    torch.manual_seed(0)
    plain = ResNet(18, base_channels=4, norm_eval=False)
    cp = ResNet(18, base_channels=4, norm_eval=False, with_cp=True)
    cp.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    out_plain = plain(x)[-1].sum()
    out_cp = cp(x)[-1].sum()
    torch.testing.assert_close(out_cp, out_plain)
    out_plain.backward()
    out_cp.backward()
    torch.testing.assert_close(cp.layer2[0].conv1.weight.grad, plain.layer2[0].conv1.weight.grad)


def test_default_init_zeroes_last_norm_of_blocks():
    r50 = ResNet(50)
    r50.init_weights()
    assert all(b.bn3.weight.abs().sum() == 0 for layer in (r50.layer1, r50.layer4) for b in layer)
    assert r50.layer1[0].bn2.weight.unique().tolist() == [1.0]
    assert r50.layer1[0].downsample[1].weight.unique().tolist() == [1.0]
    r18 = ResNet(18)
    r18.init_weights()
    assert r18.layer2[1].bn2.weight.abs().sum() == 0
    no_zero = ResNet(18, zero_init_residual=False)
    no_zero.init_weights()
    assert no_zero.layer2[1].bn2.weight.unique().tolist() == [1.0]


def test_unsupported_and_invalid_arguments():
    with pytest.raises(AssertionError, match="BasicBlock has no deformable conv"):
        ResNet(18, dcn=dict(type="DCNv2", deform_groups=1),
               stage_with_dcn=(False, True, True, True))
    with pytest.raises(AssertionError, match="dcn must be a dict or None, got 'DCN'"):
        ResNet(50, dcn="DCN", stage_with_dcn=(False, True, True, True))
    with pytest.raises(AssertionError, match="stage_with_dcn .* one entry per stage"):
        ResNet(50, dcn=dict(type="DCN"), stage_with_dcn=(False, True))
    with pytest.raises(AssertionError, match="conv_cfg must be None for DCN"):
        ResNet(50, conv_cfg=dict(type="ConvWS"), dcn=dict(type="DCN"),
               stage_with_dcn=(False, False, False, True))
    with pytest.raises(NotImplementedError, match="plugins"):
        ResNet(50, plugins=[dict(cfg=dict(type="ContextBlock"), position="after_conv3")])
    with pytest.raises(KeyError, match="invalid depth 42"):
        ResNet(42)


def test_registered_and_config_checked():
    assert isinstance(MODELS.build(dict(type="ResNetV1d", depth=18)), ResNetV1d)
    with pytest.raises(ConfigArgumentError, match="'frozen_stage'.*did you mean 'frozen_stages'"):
        check_components(dict(type="ResNetV1d", depth=50, frozen_stage=1), "model.backbone")
