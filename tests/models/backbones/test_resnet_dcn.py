"""DCN / DCNv2 in ResNet and ResNeXt blocks (``dcn=``, ``stage_with_dcn``), as MMDetection v2.

The ``fallback_on_stride`` behaviour and the initialisation were measured on MMDetection
2.28.2 (side venv): a ResNet-50 with ``fallback_on_stride=True`` in stages 2-4 has a plain
``layer2.0.conv2`` and DCN ``layer2.1.conv2`` / ``layer3.0.conv2``; a ResNeXt-50 32x4d's
``layer2.0.conv2`` stays a DCN; after ``init_weights`` a DCN's ``conv_offset`` is Kaiming
(non-zero weight, zero bias), a DCNv2's is zero.
"""

import pytest
import torch
from torch import nn

from detbox.models.backbones import ResNet, ResNeXt
from detbox.models.layers import DeformConv2dPack, ModulatedDeformConv2dPack

STAGES = (False, True, True, True)


def _tiny(cls=ResNet, **kwargs):
    return cls(depth=50, base_channels=8, stem_channels=8, **kwargs)


@pytest.mark.parametrize("kind, layer", [("DCN", DeformConv2dPack),
                                         ("DCNv2", ModulatedDeformConv2dPack)])
def test_dcn_stages_get_deformable_conv2_with_mmdetection_keys(kind, layer):
    net = _tiny(dcn=dict(type=kind, deform_groups=2, fallback_on_stride=False),
                stage_with_dcn=STAGES)
    assert type(net.layer1[0].conv2) is nn.Conv2d
    for name in ("layer2", "layer3", "layer4"):
        for block in getattr(net, name):
            assert type(block.conv2) is layer and block.conv2.deform_groups == 2
    sd = net.state_dict()
    offsets = 3 if kind == "DCNv2" else 2
    assert sd["layer2.0.conv2.weight"].shape == (16, 16, 3, 3)
    assert sd["layer2.0.conv2.conv_offset.weight"].shape == (offsets * 2 * 9, 16, 3, 3)
    assert sd["layer2.0.conv2.conv_offset.bias"].shape == (offsets * 2 * 9,)
    assert "layer2.0.conv2.bias" not in sd  # bias=False, as MMDetection passes it
    assert net.layer2[0].conv2.stride == (2, 2)
    out = net.eval()(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape) for o in out] == [(1, 32, 16, 16), (1, 64, 8, 8), (1, 128, 4, 4),
                                             (1, 256, 2, 2)]


def test_fallback_on_stride_applies_to_the_first_block_only_and_config_is_kept():
    dcn = dict(type="DCN", deform_groups=1, fallback_on_stride=True)
    net = _tiny(dcn=dcn, stage_with_dcn=STAGES)
    assert type(net.layer2[0].conv2) is nn.Conv2d
    assert type(net.layer2[1].conv2) is DeformConv2dPack
    assert type(net.layer3[0].conv2) is DeformConv2dPack
    assert dcn == dict(type="DCN", deform_groups=1, fallback_on_stride=True)  # not mutated
    again = _tiny(dcn=dcn, stage_with_dcn=STAGES)
    assert type(again.layer2[0].conv2) is nn.Conv2d


def test_resnext_grouped_dcn_never_falls_back():
    net = _tiny(ResNeXt, groups=4, base_width=4,
                dcn=dict(type="DCNv2", deform_groups=1, fallback_on_stride=True),
                stage_with_dcn=(False, False, True, True))
    conv = net.layer3[0].conv2
    assert type(conv) is ModulatedDeformConv2dPack and conv.groups == 4
    assert conv.weight.shape == (64, 16, 3, 3)  # floor(32 * 4 / 8) * 4 wide, 4 groups
    net.eval()(torch.randn(1, 3, 32, 32))


def test_dcn_init_matches_mmdetection():
    for kind, offset_zero in (("DCN", False), ("DCNv2", True)):
        net = _tiny(dcn=dict(type=kind), stage_with_dcn=(False, False, False, True))
        net.init_weights()
        offset = net.layer4[0].conv2.conv_offset
        assert bool(offset.weight.abs().sum() == 0) is offset_zero
        assert offset.bias.abs().sum() == 0


def test_dcn_backbone_trains_offsets():
    net = _tiny(dcn=dict(type="DCNv2"), stage_with_dcn=(False, False, True, True),
                norm_eval=False).train()
    sum(o.sum() for o in net(torch.randn(2, 3, 32, 32))).backward()
    assert net.layer3[0].conv2.conv_offset.weight.grad.abs().sum() > 0
    assert net.layer3[0].conv2.weight.grad.abs().sum() > 0


def test_dcn_with_activation_checkpointing_equals_without():
    torch.manual_seed(0)
    plain = _tiny(dcn=dict(type="DCN"), stage_with_dcn=(False, True, False, False)).eval()
    for p in plain.parameters():
        p.data.normal_(0, 0.1)
    ckpt = _tiny(dcn=dict(type="DCN"), stage_with_dcn=(False, True, False, False),
                 with_cp=True).eval()
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 32, 32, requires_grad=True)
    torch.testing.assert_close(plain(x)[1], ckpt(x)[1])


def test_mmcv_deprecated_deformable_groups_spelling():
    # TOOD's dconv configs write dict(type='DCNv2', deformable_groups=1, ...)
    with pytest.warns(DeprecationWarning, match="deformable_groups"):
        net = _tiny(dcn=dict(type="DCNv2", deformable_groups=2, fallback_on_stride=False),
                    stage_with_dcn=(False, False, False, True))
    assert net.layer4[0].conv2.deform_groups == 2
    with pytest.raises(ValueError, match="give only deform_groups"):
        DeformConv2dPack(4, 4, 3, deform_groups=2, deformable_groups=4)
