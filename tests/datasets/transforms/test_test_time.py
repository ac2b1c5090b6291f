import numpy as np
import pytest
import torch

from detbox.datasets.transforms import AutoAugment, Compose, MultiScaleFlipAug

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)


def loaded(h=20, w=30):
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2] = 255  # left half white: tells a horizontal flip apart
    return dict(filename="a.jpg", ori_filename="a.jpg", img=img, img_shape=img.shape,
                ori_shape=img.shape, img_fields=["img"])


def test_coco_test_pipeline_matches_the_data_contract():
    pipeline = Compose([dict(
        type="MultiScaleFlipAug", img_scale=(1333, 800), flip=False,
        transforms=[dict(type="Resize", keep_ratio=True), dict(type="RandomFlip"),
                    dict(type="Normalize", **NORM), dict(type="Pad", size_divisor=32),
                    dict(type="ImageToTensor", keys=["img"]), dict(type="Collect", keys=["img"])])])
    sample = pipeline(loaded(480, 640))
    assert set(sample) == {"img", "img_metas"}
    assert len(sample["img"]) == len(sample["img_metas"]) == 1
    img, meta = sample["img"][0], sample["img_metas"][0]
    assert isinstance(img, torch.Tensor) and img.shape == (3, 800, 1088)
    assert meta["img_shape"] == (800, 1067, 3) and meta["pad_shape"] == (800, 1088, 3)
    assert meta["flip"] is False and meta["ori_shape"] == (480, 640, 3)


def test_msfa_order_is_scales_then_flips():
    t = MultiScaleFlipAug(
        transforms=[dict(type="Resize", keep_ratio=False), dict(type="RandomFlip"),
                    dict(type="Collect", keys=["img"], meta_keys=("scale", "flip",
                                                                  "flip_direction"))],
        img_scale=[(40, 20), (20, 10)], flip=True, flip_direction=["horizontal", "vertical"])
    out = t(loaded())
    metas = out["img_metas"]
    assert len(out["img"]) == len(metas) == 6
    assert [(m["scale"], m["flip"], m["flip_direction"]) for m in metas] == [
        ((40, 20), False, None), ((40, 20), True, "horizontal"), ((40, 20), True, "vertical"),
        ((20, 10), False, None), ((20, 10), True, "horizontal"), ((20, 10), True, "vertical")]
    assert [im.shape[:2] for im in out["img"]] == [(20, 40)] * 3 + [(10, 20)] * 3
    assert out["img"][0][0, 0, 0] == 255 and out["img"][1][0, 0, 0] == 0  # h-flipped
    assert out["img"][2][0, 0, 0] == 255  # a vertical flip keeps the left half left


def test_msfa_scale_factor_and_input_untouched():
    r = loaded()
    img = r["img"].copy()
    t = MultiScaleFlipAug(transforms=[dict(type="Resize", keep_ratio=True)],
                          scale_factor=[0.5, 2.0])
    out = t(r)
    assert [im.shape[:2] for im in out["img"]] == [(10, 15), (40, 60)]
    assert np.array_equal(r["img"], img) and "scale" not in r


def test_msfa_arguments():
    with pytest.raises(ValueError, match="exactly one"):
        MultiScaleFlipAug(transforms=[], img_scale=(1, 1), scale_factor=1.0)
    with pytest.raises(ValueError, match="tuple"):
        MultiScaleFlipAug(transforms=[], img_scale=[[1333, 800]])


def test_auto_augment_picks_one_policy():
    np.random.seed(0)
    t = AutoAugment(policies=[[dict(type="Resize", img_scale=(40, 20), keep_ratio=False)],
                              [dict(type="Resize", img_scale=(10, 5), keep_ratio=False)]])
    shapes = {t(loaded())["img"].shape[:2] for _ in range(20)}
    assert shapes == {(20, 40), (5, 10)}
    with pytest.raises(ValueError, match="non-empty"):
        AutoAugment(policies=[[]])
