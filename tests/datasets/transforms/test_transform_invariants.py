"""Properties every transform keeps: boxes inside the image, labels aligned; reprs show settings."""

import numpy as np
import pytest

from detbox.datasets.transforms import Compose
from detbox.registry import TRANSFORMS
from tests.datasets.transforms.transforms_golden_cases import make_mix_results, make_results

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)

BOX_TRANSFORMS = {
    "Resize": dict(img_scale=[(50, 20), (30, 40)], multiscale_mode="range"),
    "Resize-no-ratio": dict(type="Resize", img_scale=(45, 20), keep_ratio=False),
    "RandomFlip": dict(flip_ratio=[0.3, 0.3, 0.3], direction=["horizontal", "vertical",
                                                               "diagonal"]),
    "Pad": dict(size_divisor=16),
    "RandomCrop": dict(crop_size=(0.5, 0.5), crop_type="relative_range",
                       allow_negative_crop=True),
    "MinIoURandomCrop": dict(),
    "Expand": dict(prob=1.0),
    "RandomAffine": dict(max_rotate_degree=30, max_translate_ratio=0.3),
    "RandomShift": dict(shift_ratio=1.0, max_shift_px=10),
    "Mosaic": dict(img_scale=(24, 30)),
    "MixUp": dict(img_scale=(24, 30)),
    "RandomCenterCropPad": dict(crop_size=(20, 24), ratios=(0.6, 1.0, 1.3), border=8,
                                test_pad_mode=None, mean=[1, 2, 3], std=[1, 1, 1],
                                to_rgb=True),
}


@pytest.mark.parametrize("name", sorted(BOX_TRANSFORMS))
def test_boxes_stay_inside_the_image(name):
    cfg = dict(BOX_TRANSFORMS[name])
    cfg.setdefault("type", name)
    t = Compose([cfg])
    mix = {"Mosaic": 3, "MixUp": 1}.get(cfg["type"], 0)
    for seed in range(12):
        np.random.seed(seed)
        float_img = cfg["type"] == "RandomCenterCropPad"
        r = make_mix_results(seed, mix) if mix else make_results(seed, float_img=float_img)
        out = t(r)
        if out is None:
            continue
        h, w = out["img"].shape[:2]
        if cfg["type"] == "Pad":
            h, w = out["img_shape"][:2]
        assert out["img_shape"][:2] == out["img"].shape[:2] or cfg["type"] == "Pad"
        for key in ("gt_bboxes", "gt_bboxes_ignore"):
            if key not in out:
                continue
            b = out[key]
            assert b.ndim == 2 and b.shape[1] == 4, (name, seed, key)
            assert (b[:, 0::2] >= 0).all() and (b[:, 0::2] <= w + 1e-4).all(), (name, seed, b)
            assert (b[:, 1::2] >= 0).all() and (b[:, 1::2] <= h + 1e-4).all(), (name, seed, b)
            assert (b[:, 2] >= b[:, 0]).all() and (b[:, 3] >= b[:, 1]).all(), (name, seed, b)
        assert len(out["gt_bboxes"]) == len(out["gt_labels"])


# Non-default settings; each value's repr must appear in the transform's repr.
REPR_CASES = {
    "SegRescale": dict(scale_factor=0.125, backend="pillow"),
    "LoadImageFromFile": dict(to_float32=True, color_type="grayscale"),
    "LoadImageFromWebcam": dict(to_float32=True),
    "LoadAnnotations": dict(with_label=False, denorm_bbox=True),
    "LoadProposals": dict(num_max_proposals=77),
    "FilterAnnotations": dict(min_gt_bbox_wh=(3.0, 4.0), keep_empty=False),
    "Resize": dict(img_scale=(1333, 777), multiscale_mode="value", keep_ratio=False,
                   interpolation="area", override=True),
    "RandomFlip": dict(flip_ratio=0.25, direction="vertical"),
    "Pad": dict(size_divisor=17, pad_val=dict(img=3, masks=0, seg=255)),
    "RandomCrop": dict(crop_size=(0.3, 0.7), crop_type="relative_range",
                       allow_negative_crop=True),
    "MinIoURandomCrop": dict(min_ious=(0.2, 0.4), min_crop_size=0.25),
    "CutOut": dict(n_holes=(2, 5), cutout_ratio=[(0.1, 0.2)], fill_in=(9, 9, 9)),
    "Expand": dict(mean=(1, 2, 3), ratio_range=(1, 3), prob=0.25),
    "RandomCenterCropPad": dict(crop_size=(511, 512), ratios=(0.7, 1.3), border=64,
                                test_pad_mode=None, mean=[1.5, 2.5, 3.5], std=[4.5, 5.5, 6.5],
                                to_rgb=False),
    "RandomAffine": dict(max_rotate_degree=7.5, border=(-3, -3), skip_filter=False),
    "RandomShift": dict(shift_ratio=0.25, max_shift_px=13),
    "Normalize": dict(mean=[1.5, 2.5, 3.5], std=[4.5, 5.5, 6.5], to_rgb=False),
    "PhotoMetricDistortion": dict(brightness_delta=17, hue_delta=9),
    "YOLOXHSVRandomAug": dict(hue_delta=3, saturation_delta=21, value_delta=22),
    "Mosaic": dict(img_scale=(320, 321), pad_val=99, prob=0.75),
    "MixUp": dict(img_scale=(320, 321), ratio_range=(0.8, 1.6), max_iters=11),
    "ToTensor": dict(keys=["gt_foo"]),
    "ImageToTensor": dict(keys=["img_bar"]),
    "Transpose": dict(keys=["img"], order=(2, 0, 1)),
    "ToDataContainer": dict(fields=[dict(key="proposals")]),
    "DefaultFormatBundle": dict(img_to_float=False),
    "Collect": dict(keys=["img", "gt_bboxes"], meta_keys=("filename", "flip")),
    "MultiScaleFlipAug": dict(img_scale=[(1333, 640), (1333, 800)], flip=True,
                              transforms=[dict(type="Resize", keep_ratio=True)]),
    "AutoAugment": dict(policies=[[dict(type="RandomFlip", flip_ratio=0.5)]]),
}


def value_strings(v):
    if isinstance(v, dict):  # a sub-config shows as the built object: Name(k=v, ...)
        return [s for k, x in v.items()
                for s in ([x + "("] if k == "type" else value_strings(x))]
    if isinstance(v, list) and v and isinstance(v[0], float):
        return [repr(x) for x in v]
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return [s for x in v for s in value_strings(x)]
    return [repr(v)]


@pytest.mark.parametrize("name", sorted(REPR_CASES))
def test_repr_shows_settings(name):
    args = REPR_CASES[name]
    text = repr(TRANSFORMS.build(dict(type=name, **args)))
    assert text.startswith(name + "(")
    for key, value in args.items():
        for s in value_strings(value):
            assert s in text, f"{name}: {key}={s} not in {text}"


def test_every_registered_transform_has_a_repr_case():
    skip = {"Compose", "Albu", "WrapFieldsToLists"}  # Albu: tested with a stand-in module
    assert set(TRANSFORMS.module_dict) - skip == set(REPR_CASES)
