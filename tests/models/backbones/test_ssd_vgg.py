"""SSDVGG and SSDNeck: mmcv's VGG indices, SSD300's six levels, the L2 norm."""

import torch

from detbox.models.backbones import SSDVGG
from detbox.models.necks import SSDNeck
from detbox.models.necks.ssd_neck import L2Norm


def test_vgg16_indices_and_ssd300_levels():
    net = SSDVGG(depth=16).eval()
    assert isinstance(net.features[22], torch.nn.ReLU)  # conv4_3's ReLU
    assert net.features[31].dilation == (6, 6) and net.features[33].kernel_size == (1, 1)
    neck = SSDNeck((512, 1024), (512, 1024, 512, 256, 256, 256), (2, 2, 1, 1),
                   (1, 1, 0, 0)).eval()
    with torch.no_grad():
        outs = neck(net(torch.zeros(1, 3, 300, 300)))
    assert [o.shape[-1] for o in outs] == [38, 19, 10, 5, 3, 1]


def test_l2_norm_scales_unit_channel_vectors():
    norm = L2Norm(3, scale=20.0)
    torch.nn.init.constant_(norm.weight, 20.0)
    x = torch.tensor([3.0, 0.0, 4.0]).view(1, 3, 1, 1)
    assert torch.allclose(norm(x).view(-1), torch.tensor([12.0, 0.0, 16.0]))


def test_neck_init_puts_the_l2_norm_at_its_scale():
    neck = SSDNeck((4, 8), (4, 8, 8), (2,), (1,), l2_norm_scale=10.0)
    neck.init_weights()
    assert torch.all(neck.l2_norm.weight == 10.0)
