import numpy as np
import pytest
import torch

from detbox.datasets.transforms import (
    Collect,
    Compose,
    DefaultFormatBundle,
    ImageToTensor,
    ToDataContainer,
    ToTensor,
    Transpose,
    WrapFieldsToLists,
    to_tensor,
)
from detbox.datasets.transforms.formatting import DEFAULT_META_KEYS

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)


def test_to_tensor_kinds():
    assert to_tensor(np.array([1, 2], np.int64)).dtype == torch.int64
    assert to_tensor([1.0, 2.0]).dtype == torch.float32
    assert to_tensor(3).tolist() == [3] and to_tensor(3).dtype == torch.int64
    assert to_tensor(0.5).dtype == torch.float32
    t = torch.ones(2)
    assert to_tensor(t) is t
    with pytest.raises(TypeError, match="cannot be converted"):
        to_tensor("abc")


def test_image_to_tensor_transpose_and_to_tensor():
    img = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    out = ImageToTensor(keys=["img"])(dict(img=img))["img"]
    assert out.shape == (3, 2, 3) and out.is_contiguous()
    assert torch.equal(out, torch.from_numpy(img).permute(2, 0, 1))
    grey = ImageToTensor(keys=["img"])(dict(img=np.zeros((2, 3), np.uint8)))["img"]
    assert grey.shape == (1, 2, 3) and grey.dtype == torch.uint8
    assert Transpose(keys=["a"], order=(1, 0))(dict(a=np.zeros((2, 5))))["a"].shape == (5, 2)
    assert ToTensor(keys=["a"])(dict(a=[1, 2]))["a"].tolist() == [1, 2]


def train_results():
    img = np.random.RandomState(0).randint(0, 256, (20, 30, 3)).astype(np.uint8)
    return dict(
        img_prefix=None, img_info=dict(filename="a.jpg"), filename="data/a.jpg",
        ori_filename="a.jpg", img=img, img_shape=img.shape, ori_shape=img.shape,
        img_fields=["img"], bbox_fields=["gt_bboxes_ignore", "gt_bboxes"],
        gt_bboxes=np.array([[1, 2, 10, 12]], np.float32), gt_labels=np.array([3], np.int64),
        gt_bboxes_ignore=np.zeros((0, 4), np.float32))


def test_training_sample_matches_the_data_contract():
    pipeline = Compose([
        dict(type="Resize", img_scale=(60, 40), keep_ratio=True),
        dict(type="RandomFlip", flip_ratio=0.0),
        dict(type="Normalize", **NORM),
        dict(type="Pad", size_divisor=32),
        dict(type="DefaultFormatBundle"),
        dict(type="Collect", keys=["img", "gt_bboxes", "gt_labels", "gt_bboxes_ignore"]),
    ])
    sample = pipeline(train_results())
    assert set(sample) == {"img", "img_metas", "gt_bboxes", "gt_labels", "gt_bboxes_ignore"}
    img = sample["img"]
    assert isinstance(img, torch.Tensor) and img.dtype == torch.float32
    assert img.shape == (3, 64, 64) and img.is_contiguous()
    meta = sample["img_metas"]
    assert type(meta) is dict and tuple(meta) == DEFAULT_META_KEYS
    assert meta["filename"] == "data/a.jpg" and meta["ori_filename"] == "a.jpg"
    assert meta["ori_shape"] == (20, 30, 3) and meta["img_shape"] == (40, 60, 3)
    assert meta["pad_shape"] == (64, 64, 3)
    assert meta["scale_factor"].dtype == np.float32 and meta["scale_factor"].tolist() == [2.0] * 4
    assert meta["flip"] is False and meta["flip_direction"] is None
    assert meta["img_norm_cfg"]["to_rgb"] is True
    assert sample["gt_bboxes"].dtype == torch.float32
    assert sample["gt_bboxes"].tolist() == [[2, 4, 20, 24]]
    assert sample["gt_labels"].dtype == torch.int64 and sample["gt_labels"].tolist() == [3]
    assert sample["gt_bboxes_ignore"].shape == (0, 4)
    assert (img[:, 40:] == 0).all() and (img[:, :, 60:] == 0).all()  # zero padding after norm


def test_format_bundle_image_values_and_defaults():
    r = train_results()
    flipped = r["img"][:, ::-1]  # a non-contiguous view
    r["img"] = flipped
    out = DefaultFormatBundle()(r)
    assert out["img"].dtype == torch.float32
    assert torch.equal(out["img"], torch.from_numpy(flipped.astype(np.float32)).permute(2, 0, 1))
    assert out["pad_shape"] == (20, 30, 3) and out["scale_factor"] == 1.0
    assert out["img_norm_cfg"]["mean"].tolist() == [0, 0, 0]
    assert out["img_norm_cfg"]["std"].tolist() == [1, 1, 1]
    assert out["img_norm_cfg"]["to_rgb"] is False
    kept = DefaultFormatBundle(img_to_float=False)(train_results())
    assert kept["img"].dtype == torch.uint8


def test_collect_missing_key_names_its_source():
    r = DefaultFormatBundle()(train_results())
    with pytest.raises(KeyError, match=r"'flip' \(set by RandomFlip\)"):
        Collect(keys=["img"])(r)
    out = Collect(keys=["img"], meta_keys=("filename",))(r)
    assert out["img_metas"] == {"filename": "data/a.jpg"}


def test_wrap_fields_and_to_data_container():
    out = WrapFieldsToLists()(dict(img=1, img_metas=dict(a=1)))
    assert out == dict(img=[1], img_metas=[dict(a=1)])
    r = dict(proposals=np.zeros((1, 4)))
    assert ToDataContainer(fields=[dict(key="proposals", stack=False)])(r) is r
