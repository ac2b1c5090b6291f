"""ResNeXt: grouped-conv widths, torchvision parity for 50 32x4d, MMDetection's init quirk."""

import pytest
import torch
import torchvision

from detbox.models.backbones import ResNet, ResNeXt
from detbox.registry import MODELS


def test_resnext101_32x4d_shapes():
    sd = ResNeXt(depth=101, groups=32, base_width=4).state_dict()
    assert sd["layer1.0.conv1.weight"].shape == (128, 64, 1, 1)
    assert sd["layer1.0.conv2.weight"].shape == (128, 4, 3, 3)
    assert sd["layer1.0.conv3.weight"].shape == (256, 128, 1, 1)
    assert sd["layer1.0.bn2.running_mean"].shape == (128,)
    assert sd["layer4.0.conv2.weight"].shape == (1024, 32, 3, 3)  # 512 * 4 / 64 * 32 wide
    assert sd["layer4.2.conv3.weight"].shape == (2048, 1024, 1, 1)
    assert "layer3.22.bn3.weight" in sd and "layer3.23.conv1.weight" not in sd


def test_resnext101_64x4d_shapes():
    sd = MODELS.build(dict(type="ResNeXt", depth=101, groups=64, base_width=4)).state_dict()
    assert sd["layer1.0.conv2.weight"].shape == (256, 4, 3, 3)
    assert sd["layer2.0.conv2.weight"].shape == (512, 8, 3, 3)


def test_resnext50_32x4d_loads_torchvision_and_matches_it():
    torch.manual_seed(0)
    tv = torchvision.models.resnext50_32x4d().eval()
    net = ResNeXt(depth=50, groups=32, base_width=4)
    net.load_state_dict({k: v for k, v in tv.state_dict().items() if not k.startswith("fc.")})
    net.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        y = tv.layer4(tv.layer3(tv.layer2(tv.layer1(tv.maxpool(tv.relu(tv.bn1(tv.conv1(x))))))))
        torch.testing.assert_close(net(x)[-1], y, rtol=0, atol=1e-5)


def test_groups_1_is_resnet():
    shapes = {k: v.shape for k, v in ResNeXt(depth=50).state_dict().items()}
    assert shapes == {k: v.shape for k, v in ResNet(50).state_dict().items()}


def test_default_init_does_not_zero_resnext_blocks():
    # MMDetection v2 only zero-inits ResNet's own block classes, not ResNeXt's subclass.
    net = ResNeXt(depth=50, groups=32, base_width=4)
    net.init_weights()
    assert net.layer1[0].bn3.weight.unique().tolist() == [1.0]


def test_depth_18_is_not_a_resnext():
    with pytest.raises(KeyError, match="invalid depth 18 for ResNeXt"):
        ResNeXt(depth=18)
