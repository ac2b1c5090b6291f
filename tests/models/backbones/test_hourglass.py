"""``HourglassNet``: shapes, MMDetection's key names and argument checks."""

import pytest
import torch

from detbox.models.backbones import HourglassNet

TINY = dict(downsample_times=2, num_stacks=2, stage_channels=(8, 8, 16),
            stage_blocks=(1, 1, 2), feat_channel=6)


def test_outputs_one_feature_per_stack_at_stride_4() -> None:
    net = HourglassNet(**TINY).eval()
    outs = net(torch.randn(1, 3, 36, 44))
    assert [tuple(o.shape) for o in outs] == [(1, 6, 9, 11), (1, 6, 9, 11)]


def test_state_dict_names() -> None:
    keys = set(HourglassNet(**TINY).state_dict())
    for key in ("stem.0.conv.weight", "stem.0.bn.running_mean", "stem.1.0.downsample.0.weight",
                "hourglass_modules.1.low2.low2.1.conv1.weight",
                "hourglass_modules.0.low2.low3.0.downsample.1.weight", "inters.0.bn2.weight",
                "conv1x1s.0.bn.weight", "out_convs.1.conv.weight", "remap_convs.0.conv.weight"):
        assert key in keys, key
    assert not any(k.startswith("inters.1") for k in keys)


@pytest.mark.parametrize("kwargs, match", [
    (dict(init_cfg=dict(type="Kaiming")), "init_cfg is not allowed"),
    (dict(num_stacks=0), "num_stacks"),
    (dict(stage_blocks=(1, 1)), "same length"),
    (dict(downsample_times=3), "more than downsample_times"),
])
def test_rejects_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        HourglassNet(**{**TINY, **kwargs})
