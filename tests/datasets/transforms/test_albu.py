"""``Albu`` against a small stand-in for albumentations (an optional dependency).

The stand-in follows albumentations' calling convention: ``Compose(transforms,
bbox_params)(image=..., bboxes=..., <label_fields>=...)`` returns a dict, dropping the
entries of ``label_fields`` together with the boxes it drops.
"""

import sys
import types

import numpy as np
import pytest

from detbox.datasets.transforms import Albu


class BboxParams:
    def __init__(self, format, label_fields=(), min_visibility=0.0):
        self.format = format
        self.label_fields = list(label_fields)


class CropLeft:
    """Remove the ``px`` leftmost columns; boxes move left, those left with no width go."""

    def __init__(self, px, p=1.0):
        self.px = px


class Compose:
    def __init__(self, transforms, bbox_params=None):
        self.transforms = transforms
        self.bbox_params = bbox_params

    def __call__(self, **data):
        for t in self.transforms:
            data["image"] = data["image"][:, t.px:]
            if "bboxes" in data:
                boxes = np.array(data["bboxes"], np.float32).reshape(-1, 4)
                boxes[:, 0::2] = np.clip(boxes[:, 0::2] - t.px, 0, None)
                keep = boxes[:, 2] > boxes[:, 0]
                data["bboxes"] = [tuple(b) for b in boxes[keep]]
                for field in self.bbox_params.label_fields:
                    data[field] = [v for v, k in zip(data[field], keep) if k]
        return data


@pytest.fixture
def fake_albu(monkeypatch):
    module = types.ModuleType("albumentations")
    module.__version__ = "0.0-test"
    module.Compose, module.BboxParams, module.CropLeft = Compose, BboxParams, CropLeft
    monkeypatch.setitem(sys.modules, "albumentations", module)
    return module


def results():
    return dict(img=np.arange(4 * 10 * 3, dtype=np.uint8).reshape(4, 10, 3),
                img_shape=(4, 10, 3), gt_bboxes=np.array([[0, 0, 2, 2], [3, 0, 9, 4]], np.float32),
                gt_labels=np.array([5, 6]), bbox_fields=["gt_bboxes"])


BBOX_PARAMS = dict(type="BboxParams", format="pascal_voc", label_fields=["gt_labels"],
                   filter_lost_elements=True)


def test_albu_keeps_boxes_and_labels_in_step(fake_albu):
    t = Albu(transforms=[dict(type="CropLeft", px=2)], bbox_params=BBOX_PARAMS,
             keymap=dict(img="image", gt_bboxes="bboxes"), update_pad_shape=True)
    out = t(results())
    assert out["img"].shape == (4, 8, 3) == out["img_shape"] == out["pad_shape"]
    assert out["gt_bboxes"].dtype == np.float32
    assert out["gt_bboxes"].tolist() == [[1, 0, 7, 4]]  # the first box lost its width
    assert out["gt_labels"].tolist() == [6] and out["gt_labels"].dtype == np.int64
    assert "image" not in out and "bboxes" not in out and "idx_mapper" not in out


def test_albu_skips_images_without_boxes(fake_albu):
    t = Albu(transforms=[dict(type="CropLeft", px=9)], bbox_params=BBOX_PARAMS,
             skip_img_without_anno=True)
    assert t(results()) is None
    kept = Albu(transforms=[dict(type="CropLeft", px=9)], bbox_params=BBOX_PARAMS)(results())
    assert kept["gt_bboxes"].shape == (0, 4) and kept["gt_labels"].shape == (0,)


def test_albu_unknown_transform_and_repr(fake_albu):
    with pytest.raises(KeyError, match="no 'Blurr'"):
        Albu(transforms=[dict(type="Blurr")])
    assert "CropLeft" in repr(Albu(transforms=[dict(type="CropLeft", px=1)]))


def test_albu_without_albumentations_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "albumentations", None)  # makes the import fail
    with pytest.raises(ImportError, match="pip install albumentations"):
        Albu(transforms=[dict(type="Blur")])
