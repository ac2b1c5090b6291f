"""Box conversions and mappings, on hand-made boxes."""

import numpy as np
import pytest
import torch

from detbox.ops import (
    bbox2distance,
    bbox2result,
    bbox2roi,
    bbox_cxcywh_to_xyxy,
    bbox_flip,
    bbox_mapping,
    bbox_mapping_back,
    bbox_rescale,
    bbox_xyxy_to_cxcywh,
    clamp_bboxes,
    distance2bbox,
    find_inside_bboxes,
    roi2bbox,
)

BOX = torch.tensor([[10.0, 20.0, 30.0, 60.0]])
IMG = (100, 200)  # h, w


def test_flip_directions():
    torch.testing.assert_close(bbox_flip(BOX, IMG, "horizontal"),
                               torch.tensor([[170.0, 20.0, 190.0, 60.0]]))
    torch.testing.assert_close(bbox_flip(BOX, IMG, "vertical"),
                               torch.tensor([[10.0, 40.0, 30.0, 80.0]]))
    torch.testing.assert_close(bbox_flip(BOX, IMG, "diagonal"),
                               torch.tensor([[170.0, 40.0, 190.0, 80.0]]))
    two = torch.cat([BOX, BOX + 1], 1)  # [1, 8]: two boxes per row
    torch.testing.assert_close(bbox_flip(two, IMG)[:, 4:], bbox_flip(BOX + 1, IMG))
    with pytest.raises(AssertionError, match="direction"):
        bbox_flip(BOX, IMG, "sideways")


def test_mapping_round_trip():
    scale = np.array([2.0, 0.5, 2.0, 0.5], dtype=np.float32)
    mapped = bbox_mapping(BOX, (50, 400), scale, flip=True)
    # scaled: [20, 10, 60, 30]; flipped in width 400: [340, 10, 380, 30]
    torch.testing.assert_close(mapped, torch.tensor([[340.0, 10.0, 380.0, 30.0]]))
    torch.testing.assert_close(bbox_mapping_back(mapped, (50, 400), scale, flip=True), BOX)
    torch.testing.assert_close(
        bbox_mapping_back(mapped, (50, 400), scale, flip=True, flip_direction="vertical"),
        torch.tensor([[170.0, 40.0, 190.0, 80.0]]))


def test_roi_round_trip():
    boxes = [torch.tensor([[1.0, 2.0, 3.0, 4.0, 0.9]]), torch.zeros(0, 4),
             torch.tensor([[5.0, 6.0, 7.0, 8.0], [0.0, 0.0, 1.0, 1.0]])]
    rois = bbox2roi(boxes)
    expected = torch.tensor([[0.0, 1, 2, 3, 4], [2.0, 5, 6, 7, 8], [2.0, 0, 0, 1, 1]])
    torch.testing.assert_close(rois, expected)
    back = roi2bbox(rois)
    assert len(back) == 2  # images without RoIs get no entry
    torch.testing.assert_close(back[1], boxes[2])


def test_bbox2result_splits_by_class():
    dets = torch.tensor([[0.0, 0, 1, 1, 0.9], [1.0, 1, 2, 2, 0.8], [2.0, 2, 3, 3, 0.7]])
    result = bbox2result(dets, torch.tensor([2, 0, 2]), num_classes=3)
    assert [r.shape for r in result] == [(1, 5), (0, 5), (2, 5)]
    np.testing.assert_array_equal(result[2][:, 4], np.array([0.9, 0.7], dtype=np.float32))
    empty = bbox2result(torch.zeros(0, 5), torch.zeros(0), num_classes=2)
    assert [r.shape for r in empty] == [(0, 5), (0, 5)] and empty[0].dtype == np.float32


def test_distance_round_trip_and_clamp():
    points = torch.tensor([[20.0, 40.0]])
    dist = bbox2distance(points, BOX)
    torch.testing.assert_close(dist, torch.tensor([[10.0, 20.0, 10.0, 20.0]]))
    torch.testing.assert_close(distance2bbox(points, dist), BOX)
    torch.testing.assert_close(bbox2distance(points, BOX, max_dis=15.0),
                               torch.tensor([[10.0, 14.9, 10.0, 14.9]]))
    big = torch.tensor([[30.0, 30.0, 30.0, 30.0]])
    torch.testing.assert_close(distance2bbox(points, big, max_shape=(50, 45)),
                               torch.tensor([[0.0, 10.0, 45.0, 50.0]]))
    # batched: one (h, w) per image
    batched = distance2bbox(points[None].repeat(2, 1, 1), big[None].repeat(2, 1, 1),
                            max_shape=[(50, 45), (100, 100)])
    torch.testing.assert_close(batched[0], torch.tensor([[0.0, 10.0, 45.0, 50.0]]))
    torch.testing.assert_close(batched[1], torch.tensor([[0.0, 10.0, 50.0, 70.0]]))


def test_clamp_bboxes_multi_box_rows():
    boxes = torch.tensor([[-5.0, -5.0, 300.0, 300.0, 1.0, 2.0, 3.0, 4.0]])
    torch.testing.assert_close(clamp_bboxes(boxes, (100, 200)),
                               torch.tensor([[0.0, 0.0, 200.0, 100.0, 1.0, 2.0, 3.0, 4.0]]))


def test_cxcywh_and_rescale():
    cxcywh = bbox_xyxy_to_cxcywh(BOX)
    torch.testing.assert_close(cxcywh, torch.tensor([[20.0, 40.0, 20.0, 40.0]]))
    torch.testing.assert_close(bbox_cxcywh_to_xyxy(cxcywh), BOX)
    torch.testing.assert_close(bbox_rescale(BOX, 2.0), torch.tensor([[0.0, 0.0, 40.0, 80.0]]))
    roi = torch.cat([torch.tensor([[3.0]]), BOX], 1)
    torch.testing.assert_close(bbox_rescale(roi, 0.5),
                               torch.tensor([[3.0, 15.0, 30.0, 25.0, 50.0]]))


def test_find_inside_bboxes():
    boxes = torch.tensor([[-10.0, -10.0, -1.0, -1.0], [190.0, 90.0, 250.0, 150.0],
                          [200.0, 0.0, 210.0, 10.0]])
    assert find_inside_bboxes(boxes, 100, 200).tolist() == [False, True, False]
