"""BitmapMasks / PolygonMasks: behaviour beyond the MMDetection golden (consistency, errors)."""

import numpy as np
import pytest
import torch

from detbox.structures import BitmapMasks, PolygonMasks
from detbox.structures.masks import (
    bitmap_to_polygon,
    encode_mask_results,
    polygon_to_bitmap,
    segm_to_bitmap,
)


def square_polygons():
    return PolygonMasks([[np.array([2., 2., 10., 2., 10., 8., 2., 8.])],
                         [np.array([12., 1., 15., 1., 15., 11., 12., 11.])]], 12, 16)


def test_polygons_and_their_bitmaps_agree_through_geometry():
    poly = square_polygons()
    bitmap = poly.to_bitmap()
    assert bitmap.masks.shape == (2, 12, 16)
    np.testing.assert_array_equal(bitmap.areas, [48, 30])
    np.testing.assert_allclose(poly.areas, [48, 30])
    for op, args in (("flip", ("horizontal",)), ("flip", ("vertical",)), ("resize", ((24, 32),)),
                     ("crop", (np.array([1, 1, 14, 10]),))):
        np.testing.assert_array_equal(getattr(poly, op)(*args).to_ndarray(),
                                      getattr(bitmap, op)(*args).to_ndarray().astype(bool), op)


def test_get_bboxes_and_indexing():
    poly = square_polygons()
    np.testing.assert_array_equal(poly.get_bboxes(), [[2, 2, 10, 8], [12, 1, 15, 11]])
    np.testing.assert_array_equal(poly.to_bitmap().get_bboxes(), [[2, 2, 10, 8], [12, 1, 15, 11]])
    assert len(poly[1]) == 1 and len(poly[np.array([1, 0])]) == 2
    assert poly.to_bitmap()[0].masks.shape == (1, 12, 16)
    assert repr(poly) == "PolygonMasks(num_masks=2, height=12, width=16)"


def test_crop_and_resize_targets_and_tensors():
    bitmap = square_polygons().to_bitmap()
    boxes = np.array([[2., 2., 10., 8.]], np.float32)
    out = bitmap.crop_and_resize(boxes, (4, 4), np.array([0]))
    assert out.masks.all()  # the box is the whole mask
    t = bitmap.to_tensor(torch.float32, "cpu")
    assert t.shape == (2, 12, 16) and t.dtype == torch.float32
    empty = BitmapMasks([], 5, 6)
    assert empty.crop_and_resize(boxes, (4, 4), np.array([0])).masks.shape == (0, 4, 4)
    assert empty.rescale(2.0).masks.shape == (0, 10, 12)


def test_segmentations_polygons_rle_and_crowd():
    poly = [[1.0, 1.0, 9.0, 1.0, 9.0, 5.0, 1.0, 5.0]]
    a = segm_to_bitmap(poly, 8, 12)
    assert a.dtype == np.uint8 and a.sum() == 32
    rle = encode_mask_results([[a.astype(bool)]])[0][0]
    np.testing.assert_array_equal(segm_to_bitmap(rle, 8, 12), a)
    crowd = dict(size=[2, 3], counts=[1, 3, 2])  # column-major runs, zeros first
    np.testing.assert_array_equal(segm_to_bitmap(crowd, 2, 3), [[0, 1, 0], [1, 1, 0]])
    with pytest.raises(TypeError, match="list of polygons or an RLE"):
        segm_to_bitmap("nope", 2, 3)
    contours, hole = bitmap_to_polygon(polygon_to_bitmap([np.array(poly[0])], 8, 12))
    assert len(contours) == 1 and not hole


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"\[N, H, W\]"):
        BitmapMasks(np.zeros((4, 4)), 4, 4)
    with pytest.raises(TypeError, match="list"):
        PolygonMasks(np.zeros((1, 8)), 4, 4)
    with pytest.raises(ValueError, match="binarize"):
        square_polygons().crop_and_resize(np.zeros((1, 4)), (2, 2), [0], binarize=False)
    with pytest.raises(NotImplementedError, match="poly2mask=True"):
        square_polygons().expand(20, 20, 1, 1)
