"""AnchorGenerator: hand-computed anchors on tiny grids, with MMDetection v2 semantics."""

import math

import pytest
import torch

import detbox.models  # noqa: F401  (registers AnchorGenerator)
from detbox.models.task_modules import AnchorGenerator
from detbox.registry import TASK_UTILS, ConfigArgumentError

R2 = math.sqrt(2.0)


def test_golden_base_anchors_rpn_setting():
    gen = AnchorGenerator(strides=[16], ratios=[0.5, 1.0, 2.0], scales=[8])
    # MMDetection v2 (center_offset 0, no rounding): size 16 * 8 = 128, w = 128 / sqrt(r),
    # h = 128 * sqrt(r), centered on (0, 0). The often-quoted [[-84, -40, 99, 55], ...] are
    # py-faster-rcnn's (v1-style, rounded) anchors, which v2's AnchorGenerator does not produce.
    expected = torch.tensor([
        [-64 * R2, -32 * R2, 64 * R2, 32 * R2],
        [-64.0, -64.0, 64.0, 64.0],
        [-32 * R2, -64 * R2, 32 * R2, 64 * R2],
    ])
    assert gen.num_base_anchors == [3]
    assert gen.num_levels == 1
    torch.testing.assert_close(gen.base_anchors[0], expected)
    legacy = torch.tensor([[-84.0, -40.0, 99.0, 55.0], [-56.0, -56.0, 71.0, 71.0],
                           [-36.0, -80.0, 51.0, 95.0]])
    assert not torch.allclose(gen.base_anchors[0], legacy)


def test_base_anchor_order_scale_major():
    # rows: (ratio 1, scale 1), (ratio 1, scale 2), (ratio 4, scale 1), (ratio 4, scale 2)
    gen = AnchorGenerator(strides=[4], ratios=[1.0, 4.0], scales=[1.0, 2.0])
    expected = torch.tensor([[-2.0, -2.0, 2.0, 2.0], [-4.0, -4.0, 4.0, 4.0],
                             [-1.0, -4.0, 1.0, 4.0], [-2.0, -8.0, 2.0, 8.0]])
    torch.testing.assert_close(gen.base_anchors[0], expected)

    gen = AnchorGenerator(strides=[4], ratios=[1.0, 4.0], scales=[1.0, 2.0], scale_major=False)
    torch.testing.assert_close(gen.base_anchors[0], expected[[0, 2, 1, 3]])


def test_retinanet_setting():
    gen = AnchorGenerator(octave_base_scale=4, scales_per_octave=3, ratios=[0.5, 1.0, 2.0],
                          strides=[8, 16, 32, 64, 128])
    assert gen.num_levels == 5
    assert gen.num_base_anchors == [9] * 5
    assert gen.base_sizes == [8, 16, 32, 64, 128]
    torch.testing.assert_close(gen.scales, torch.tensor([4.0, 4 * 2 ** (1 / 3), 4 * 2 ** (2 / 3)]))
    # ratio 1 (rows 3..5), scale 4 at stride 8: a 32 x 32 box around the origin
    torch.testing.assert_close(gen.base_anchors[0][3], torch.tensor([-16.0, -16.0, 16.0, 16.0]))
    sizes = [(4, 6), (2, 3), (1, 2), (1, 1), (1, 1)]
    priors = gen.grid_priors(sizes)
    assert [p.shape for p in priors] == [(h * w * 9, 4) for h, w in sizes]


def test_grid_priors_order_row_major_anchors_consecutive():
    gen = AnchorGenerator(strides=[10], ratios=[1.0], scales=[1.0, 2.0])
    small, big = [-5.0, -5.0, 5.0, 5.0], [-10.0, -10.0, 10.0, 10.0]
    expected = []
    for y in range(2):
        for x in range(3):
            shift = torch.tensor([10.0 * x, 10.0 * y, 10.0 * x, 10.0 * y])
            expected += [torch.tensor(small) + shift, torch.tensor(big) + shift]
    priors = gen.grid_priors([(2, 3)])
    assert len(priors) == 1
    torch.testing.assert_close(priors[0], torch.stack(expected))
    torch.testing.assert_close(gen.single_level_grid_priors((2, 3), 0), priors[0])


def test_non_square_stride_and_dtype():
    gen = AnchorGenerator(strides=[(10, 20)], ratios=[1.0], scales=[1.0])
    assert gen.strides == [(10, 20)] and gen.base_sizes == [10]
    priors = gen.grid_priors([(2, 2)], dtype=torch.float64)[0]
    expected = torch.tensor([[-5.0, -5.0, 5.0, 5.0], [5.0, -5.0, 15.0, 5.0],
                             [-5.0, 15.0, 5.0, 25.0], [5.0, 15.0, 15.0, 25.0]], dtype=torch.float64)
    assert priors.dtype == torch.float64
    torch.testing.assert_close(priors, expected)


def test_multi_level_base_sizes():
    gen = AnchorGenerator(strides=[16, 32], ratios=[1.0], scales=[1.0], base_sizes=[9, 18])
    priors = gen.grid_priors([(2, 2), (1, 1)])
    torch.testing.assert_close(priors[0][1], torch.tensor([11.5, -4.5, 20.5, 4.5]))
    torch.testing.assert_close(priors[1], torch.tensor([[-9.0, -9.0, 9.0, 9.0]]))


def test_center_offset_and_centers():
    gen = AnchorGenerator(strides=[16], ratios=[1.0], scales=[1.0], center_offset=0.5)
    torch.testing.assert_close(gen.base_anchors[0], torch.tensor([[0.0, 0.0, 16.0, 16.0]]))
    torch.testing.assert_close(gen.grid_priors([(1, 2)])[0],
                               torch.tensor([[0.0, 0.0, 16.0, 16.0], [16.0, 0.0, 32.0, 16.0]]))
    by_center = AnchorGenerator(strides=[16], ratios=[1.0], scales=[1.0], centers=[(8.0, 8.0)])
    torch.testing.assert_close(by_center.base_anchors[0], gen.base_anchors[0])


def test_valid_flags_on_padded_shape():
    gen = AnchorGenerator(strides=[8], ratios=[1.0], scales=[1.0, 2.0])
    # batch feature map 3 x 4; this image padded to 16 x 20 covers ceil(16/8)=2 rows and
    # ceil(20/8)=3 columns
    flags = gen.valid_flags([(3, 4)], pad_shape=(16, 20, 3))[0]
    per_location = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]], dtype=torch.bool)
    assert flags.dtype == torch.bool
    assert torch.equal(flags, per_location.view(-1).repeat_interleave(2))
    assert gen.valid_flags([(3, 4)], pad_shape=(100, 100))[0].all()
    with pytest.raises(AssertionError):
        gen.single_level_valid_flags((3, 4), (4, 4), 2)


def test_deprecated_aliases():
    gen = AnchorGenerator(strides=[(10, 20)], ratios=[1.0, 2.0], scales=[1.0])
    with pytest.warns(DeprecationWarning):
        anchors = gen.grid_anchors([(2, 3)])
    torch.testing.assert_close(anchors[0], gen.grid_priors([(2, 3)])[0])
    with pytest.warns(DeprecationWarning):
        single = gen.single_level_grid_anchors(gen.base_anchors[0], (2, 3), stride=(10, 20))
    torch.testing.assert_close(single, anchors[0])


@pytest.mark.parametrize("kwargs, error", [
    (dict(scales=[1.0], octave_base_scale=4, scales_per_octave=3), AssertionError),
    (dict(), AssertionError),
    (dict(octave_base_scale=4), AssertionError),
    (dict(scales=[1.0], centers=[(0.0, 0.0)], center_offset=0.5), AssertionError),
    (dict(scales=[1.0], centers=[(0.0, 0.0), (1.0, 1.0)]), AssertionError),
    (dict(scales=[1.0], base_sizes=[4, 8]), AssertionError),
    (dict(scales=[1.0], center_offset=1.5), ValueError),
])
def test_invalid_arguments(kwargs, error):
    with pytest.raises(error):
        AnchorGenerator(strides=[4], ratios=[1.0], **kwargs)


def test_repr_shows_settings():
    text = repr(AnchorGenerator(strides=[8], ratios=[1.0], octave_base_scale=4,
                                scales_per_octave=1, center_offset=0.5))
    assert text.startswith("AnchorGenerator(")
    for part in ("strides=[(8, 8)]", "ratios=[1.0]", "scales=[4.0]", "base_sizes=[8]",
                 "octave_base_scale=4", "scales_per_octave=1", "center_offset=0.5"):
        assert part in text


def test_registry_build_and_typo_hint():
    gen = TASK_UTILS.build(dict(type="AnchorGenerator", scales=[8], ratios=[1.0], strides=[4]))
    assert isinstance(gen, AnchorGenerator)
    with pytest.raises(ConfigArgumentError, match="did you mean 'scales'"):
        TASK_UTILS.build(dict(type="AnchorGenerator", scale=[8], ratios=[1.0], strides=[4]))
