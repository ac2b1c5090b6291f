"""COCO mask evaluation ('segm'), .segm.json, classwise tables; masks in the test loop."""

import json

import numpy as np
import pytest

from detbox.evaluation import coco_evaluate, format_results
from detbox.evaluation.inference_loop import encode_results
from detbox.structures.masks import polygon_to_bitmap
from detbox.visualization import show_det_result

H, W = 40, 60
POLYS = {1: [[5., 5., 25., 5., 25., 30., 5., 30.]], 2: [[30., 10., 55., 10., 42., 35.]]}


def gt():
    anns = [dict(id=i, image_id=1, category_id=i, iscrowd=0, segmentation=p,
                 bbox=[min(p[0][0::2]), min(p[0][1::2]), max(p[0][0::2]) - min(p[0][0::2]),
                       max(p[0][1::2]) - min(p[0][1::2])], area=300.0)
            for i, p in POLYS.items()]
    return dict(images=[dict(id=1, width=W, height=H, file_name="a.png")], annotations=anns,
                categories=[dict(id=1, name="a"), dict(id=2, name="b")])


def result(shift=0):
    masks = {c: polygon_to_bitmap([np.array(p[0])], H, W) for c, p in POLYS.items()}
    if shift:
        masks[2] = np.roll(masks[2], shift, axis=1)
    boxes = [np.array([[5, 5, 25, 30, 0.9]], np.float32), np.array([[30, 10, 55, 35, 0.8]],
                                                                     np.float32)]
    return [(boxes, [[masks[1]], [masks[2]]])]


def test_perfect_masks_give_segm_map_1_and_v2_keys(tmp_path):
    out = coco_evaluate(gt(), encode_results(result()), [1, 2], [1], ["a", "b"],
                        metric=["bbox", "segm"], classwise=True,
                        jsonfile_prefix=str(tmp_path / "res"))
    assert out["segm_mAP"] == 1.0 and out["segm_mAP_50"] == 1.0
    assert out["segm_AP_a"] == 1.0 and out["segm_AP_b"] == 1.0
    assert out["segm_mAP_copypaste"].startswith("1.0000 1.0000 1.0000")
    assert "bbox_mAP" in out
    segm = json.loads((tmp_path / "res.segm.json").read_text())
    assert [e["category_id"] for e in segm] == [1, 2]
    assert isinstance(segm[0]["segmentation"]["counts"], str)
    assert len(json.loads((tmp_path / "res.bbox.json").read_text())) == 2


def test_shifted_mask_lowers_segm_not_bbox_and_raw_masks_are_accepted():
    out = coco_evaluate(gt(), result(shift=12), [1, 2], [1], metric=["bbox", "segm"])
    assert out["segm_mAP"] < 0.8 < out["bbox_mAP"]
    files, tmp = format_results(result(), [1], [1, 2])
    assert set(files) == {"bbox", "proposal", "segm"} and files["segm"].endswith(".segm.json")
    tmp.cleanup()
    with pytest.raises(KeyError, match="'segm' needs"):
        coco_evaluate(gt(), [[r[0] for r in result()][0]], [1, 2], [1], metric="segm")


def test_masks_are_drawn_filled():
    img = np.full((H, W, 3), 100, np.uint8)
    drawn = show_det_result(img, result()[0], ["a", "b"], score_thr=0.3, mask_color=[(255, 0, 0),
                                                                                  (0, 255, 0)])
    inside = polygon_to_bitmap([np.array(POLYS[1][0])], H, W)
    inside[:20] = False  # below the label
    fill = drawn[inside]
    assert (fill[:, 2] == 177).mean() > 0.6  # red at 50 % over grey 100 (box lines aside)
    assert (drawn[~polygon_to_bitmap([np.array(POLYS[1][0])], H, W)][:, 2] < 150).mean() > 0.7
    encoded = show_det_result(img, encode_results(result())[0], ["a", "b"], score_thr=0.3,
                              mask_color=[(255, 0, 0), (0, 255, 0)])
    np.testing.assert_array_equal(drawn, encoded)
