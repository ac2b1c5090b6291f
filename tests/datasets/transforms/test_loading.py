import io

import cv2
import numpy as np
import pytest
from PIL import Image

from detbox.datasets.transforms import (
    FilterAnnotations,
    LoadAnnotations,
    LoadImageFromFile,
    LoadImageFromWebcam,
    LoadProposals,
)

# A 4x6 BGR image whose left half is white, right half black, with a red top-left pixel.
BGR = np.zeros((4, 6, 3), np.uint8)
BGR[:, :3] = 255
BGR[0, 0] = (0, 0, 255)


def load(folder, name, **kwargs):
    return LoadImageFromFile(**kwargs)(dict(img_prefix=str(folder), img_info=dict(filename=name)))


def test_color_png_keys_and_values(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), BGR)
    r = load(tmp_path, "a.png")
    assert np.array_equal(r["img"], BGR) and r["img"].dtype == np.uint8
    assert r["filename"] == str(tmp_path / "a.png") and r["ori_filename"] == "a.png"
    assert r["img_shape"] == r["ori_shape"] == (4, 6, 3) and r["img_fields"] == ["img"]
    assert load(tmp_path, "a.png", to_float32=True)["img"].dtype == np.float32
    assert load(tmp_path, "a.png", channel_order="rgb")["img"][0, 0].tolist() == [255, 0, 0]


def test_no_prefix_uses_filename_as_is(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), BGR)
    r = LoadImageFromFile()(dict(img_prefix=None, img_info=dict(filename=str(tmp_path / "a.png"))))
    assert r["img"].shape == (4, 6, 3)


def test_grey_becomes_three_channels(tmp_path):
    cv2.imwrite(str(tmp_path / "g.png"), BGR[..., 1])
    img = load(tmp_path, "g.png")["img"]
    assert img.shape == (4, 6, 3)
    assert (img[..., 0] == img[..., 1]).all() and (img[..., 1] == BGR[..., 1]).all()
    assert load(tmp_path, "g.png", color_type="unchanged")["img"].shape == (4, 6)


def test_rgba_drops_alpha(tmp_path):
    rgba = np.concatenate([BGR, np.full((4, 6, 1), 7, np.uint8)], -1)
    cv2.imwrite(str(tmp_path / "x.png"), rgba)
    assert np.array_equal(load(tmp_path, "x.png")["img"], BGR)
    assert load(tmp_path, "x.png", color_type="unchanged")["img"].shape == (4, 6, 4)


# 40x60 BGR image with four coloured quadrants: red, green / blue, white.
QUADRANTS = np.zeros((40, 60, 3), np.uint8)
QUADRANTS[:20, :30] = (0, 0, 255)
QUADRANTS[:20, 30:] = (0, 255, 0)
QUADRANTS[20:, :30] = (255, 0, 0)
QUADRANTS[20:, 30:] = (255, 255, 255)


@pytest.mark.parametrize("orientation, expected", [
    (1, lambda a: a),
    (3, lambda a: a[::-1, ::-1]),              # stored rotated 180
    (6, lambda a: np.rot90(a, k=-1)),          # shown rotated 90 clockwise
    (8, lambda a: np.rot90(a, k=1)),           # shown rotated 90 counter-clockwise
])
def test_exif_orientation_is_applied(tmp_path, orientation, expected):
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(QUADRANTS[..., ::-1]).save(buf, "JPEG", quality=95, exif=exif.tobytes())
    (tmp_path / "e.jpg").write_bytes(buf.getvalue())
    img = load(tmp_path, "e.jpg")["img"]
    want = expected(QUADRANTS)
    assert img.shape == want.shape
    h, w = want.shape[:2]
    for y in (h // 4, 3 * h // 4):  # quadrant centres, away from JPEG edge ringing
        for x in (w // 4, 3 * w // 4):
            assert np.abs(img[y, x].astype(int) - want[y, x]).max() < 30, (y, x)
    raw = load(tmp_path, "e.jpg", color_type="color_ignore_orientation")["img"]
    assert raw.shape == QUADRANTS.shape


def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.jpg.*img_prefix"):
        load(tmp_path, "nope.jpg")


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\xff\xd8\xff\xe0garbage"])
def test_corrupt_file_names_it(tmp_path, content):
    (tmp_path / "bad.jpg").write_bytes(content)
    with pytest.raises(ValueError, match=r"bad\.jpg.*corrupt.*replace the file"):
        load(tmp_path, "bad.jpg")


def test_webcam_takes_array():
    r = LoadImageFromWebcam(to_float32=True)(dict(img=BGR))
    assert r["img"].dtype == np.float32 and r["filename"] is None and r["img_shape"] == BGR.shape
    with pytest.raises(TypeError, match="numpy image"):
        LoadImageFromWebcam()(dict(img="path.jpg"))


def ann_results():
    return dict(
        img_info=dict(filename="a.jpg"), img_shape=(10, 20, 3), bbox_fields=[],
        ann_info=dict(bboxes=np.array([[1, 2, 3, 4]], np.float32), labels=np.array([5]),
                      bboxes_ignore=np.zeros((0, 4), np.float32)))


def test_load_annotations_copies_boxes_and_labels():
    r = ann_results()
    out = LoadAnnotations()(r)
    assert out["gt_bboxes"].tolist() == [[1, 2, 3, 4]] and out["gt_labels"].dtype == np.int64
    assert out["gt_bboxes_ignore"].shape == (0, 4)
    assert out["bbox_fields"] == ["gt_bboxes_ignore", "gt_bboxes"]
    out["gt_bboxes"][0, 0] = 99
    assert r["ann_info"]["bboxes"][0, 0] == 1  # a copy
    no_fields = ann_results()
    del no_fields["bbox_fields"]
    assert LoadAnnotations(with_label=False)(no_fields)["bbox_fields"] == ["gt_bboxes_ignore",
                                                                          "gt_bboxes"]


def test_load_annotations_denorm_and_errors():
    r = ann_results()
    r["ann_info"]["bboxes"] = np.array([[0.1, 0.5, 0.5, 1.0]], np.float32)
    out = LoadAnnotations(denorm_bbox=True)(r)
    np.testing.assert_allclose(out["gt_bboxes"], [[2, 5, 10, 10]], rtol=1e-6)
    with pytest.raises(KeyError, match="'masks'.*a.jpg"):
        LoadAnnotations(with_bbox=False, with_label=False, with_mask=True)(
            dict(img_info=dict(filename="a.jpg", height=4, width=4), ann_info={}))
    with pytest.raises(KeyError, match="ann_info.*a.jpg"):
        LoadAnnotations()(dict(img_info=dict(filename="a.jpg"), ann_info={}))


def test_filter_annotations_by_hand():
    boxes = np.array([[0, 0, 5, 5], [0, 0, 1, 9], [0, 0, 9, 1.5]], np.float32)
    r = dict(gt_bboxes=boxes, gt_labels=np.array([1, 2, 3]))
    out = FilterAnnotations(min_gt_bbox_wh=(1.0, 1.0))(dict(r))
    assert out["gt_labels"].tolist() == [1, 3]  # w = 1 is not > 1
    assert FilterAnnotations(min_gt_bbox_wh=(10, 10))(dict(r)) is None
    kept = FilterAnnotations(min_gt_bbox_wh=(10, 10), keep_empty=False)(dict(r))
    assert kept["gt_bboxes"].shape == (0, 4)
    with pytest.raises(KeyError, match="gt_masks.*with_mask=True"):
        FilterAnnotations(by_mask=True)(dict(r))


def test_load_proposals():
    r = LoadProposals(num_max_proposals=1)(dict(proposals=np.ones((3, 5), np.float32)))
    assert r["proposals"].shape == (1, 4) and r["bbox_fields"] == ["proposals"]
    assert LoadProposals()(dict(proposals=np.zeros((0, 4))))["proposals"].shape == (1, 4)
