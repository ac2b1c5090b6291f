"""Mask inputs, pipelines and mask-method calls shared by the mask golden and its test.

NumPy only: ``make_mask_transforms_golden.py`` imports this module in the side venv (real
mmdet 2.28.2 + mmcv-full 1.7.2) and records MMDetection's outputs;
``test_mask_transforms_mmdet_parity.py`` runs detbox's transforms and ``BitmapMasks`` /
``PolygonMasks`` on the same inputs. The mask classes are passed in (``classes`` =
``(BitmapMasks, PolygonMasks)`` of either side).
"""

import copy

import numpy as np

import tests.datasets.transforms.transforms_golden_cases as gc

SEEDS = (0, 1, 2, 3)
COMPARED_KEYS = gc.COMPARED_KEYS + ("gt_semantic_seg",)


def object_polygons(box, rng):
    """One or two polygons (flat float64) inside ``box``: an irregular octagon, sometimes a
    second small triangle. (Python floats: numpy 1 and 2 promote float32 scalars differently.)"""
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
    t = np.linspace(0, 2 * np.pi, 8, endpoint=False) + rng.uniform(0, 0.5)
    r = rng.uniform(0.6, 1.0, 8)
    poly = np.stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)], 1).reshape(-1)
    polys = [poly.astype(np.float64)]
    if rng.rand() < 0.4:
        polys.append(np.array([x1, y1, x1 + rx, y1, x1, y1 + ry], dtype=np.float64))
    return polys


def object_bitmap(box, h, w, rng):
    """``uint8[h, w]``: an ellipse inside ``box`` with a few random holes."""
    x1, y1, x2, y2 = (float(v) for v in box)
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    rx, ry = max((x2 - x1) / 2, 0.6), max((y2 - y1) / 2, 0.6)
    m = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0
    m &= rng.rand(h, w) > 0.1
    return m.astype(np.uint8)


def make_mask_results(seed, classes, kind="bitmap", seg=False, **kwargs):
    """``transforms_golden_cases.make_results`` plus ``gt_masks`` (one per box) of ``kind``
    and, with ``seg``, a ``uint8`` ``gt_semantic_seg``."""
    bitmap_cls, polygon_cls = classes
    results = gc.make_results(seed, **kwargs)
    rng = np.random.RandomState(2000 + seed)
    h, w = results["img"].shape[:2]
    boxes = results["gt_bboxes"]
    if kind == "bitmap":
        masks = bitmap_cls(np.stack([object_bitmap(b, h, w, rng) for b in boxes]), h, w)
    else:
        masks = polygon_cls([object_polygons(b, rng) for b in boxes], h, w)
    results["gt_masks"] = masks
    results["mask_fields"] = ["gt_masks"]
    if seg:
        results["gt_semantic_seg"] = rng.randint(0, 5, (h, w)).astype(np.uint8)
        results["seg_fields"] = ["gt_semantic_seg"]
    return results


# name -> (transform config list, input kwargs)
CASES = {
    "resize_bitmap": ([dict(type="Resize", img_scale=(50, 40), keep_ratio=True)],
                      dict(kind="bitmap", seg=True)),
    "resize_polygon": ([dict(type="Resize", img_scale=(50, 40), keep_ratio=True)],
                       dict(kind="polygon")),
    "resize_no_ratio_bitmap": ([dict(type="Resize", img_scale=(45, 20), keep_ratio=False)],
                               dict(kind="bitmap", seg=True)),
    "resize_no_ratio_polygon": ([dict(type="Resize", img_scale=(45, 20), keep_ratio=False)],
                                dict(kind="polygon")),
    "flip_bitmap": ([dict(type="RandomFlip", flip_ratio=[0.3, 0.3, 0.3],
                          direction=["horizontal", "vertical", "diagonal"])],
                    dict(kind="bitmap", seg=True)),
    "flip_polygon": ([dict(type="RandomFlip", flip_ratio=[0.3, 0.3, 0.3],
                           direction=["horizontal", "vertical", "diagonal"])],
                     dict(kind="polygon")),
    "pad_bitmap": ([dict(type="Pad", size_divisor=32)], dict(kind="bitmap", seg=True)),
    "pad_polygon": ([dict(type="Pad", size=(40, 50))], dict(kind="polygon")),
    "crop_bitmap": ([dict(type="RandomCrop", crop_size=(12, 20))],
                    dict(kind="bitmap", seg=True)),
    "crop_polygon": ([dict(type="RandomCrop", crop_size=(0.5, 0.6), crop_type="relative")],
                     dict(kind="polygon")),
    "crop_recompute": ([dict(type="RandomCrop", crop_size=(14, 18), recompute_bbox=True,
                             allow_negative_crop=True)], dict(kind="bitmap")),
    "min_iou_crop_bitmap": ([dict(type="MinIoURandomCrop")],
                            dict(kind="bitmap", seg=True, h=40, w=48)),
    "min_iou_crop_polygon": ([dict(type="MinIoURandomCrop")],
                             dict(kind="polygon", h=40, w=48)),
    "expand_bitmap": ([dict(type="Expand", mean=gc.NORM["mean"], to_rgb=True, ratio_range=(1, 3),
                            seg_ignore_label=255, prob=0.7)], dict(kind="bitmap", seg=True)),
    "filter_by_mask": ([dict(type="FilterAnnotations", min_gt_mask_area=40, by_box=False,
                             by_mask=True, keep_empty=False)], dict(kind="bitmap")),
    "filter_by_both": ([dict(type="FilterAnnotations", min_gt_bbox_wh=(4.0, 4.0),
                             min_gt_mask_area=30.0, by_mask=True)], dict(kind="polygon")),
    "seg_rescale": ([dict(type="SegRescale", scale_factor=1 / 8)],
                    dict(kind="bitmap", seg=True, h=48, w=64)),
    "coco_train_bitmap": ([dict(type="Resize", img_scale=(53, 32), keep_ratio=True),
                           dict(type="RandomFlip", flip_ratio=0.5),
                           dict(type="Normalize", **gc.NORM),
                           dict(type="Pad", size_divisor=32)], dict(kind="bitmap", seg=True)),
    "coco_train_polygon": ([dict(type="Resize", img_scale=[(60, 20), (40, 30)],
                                 multiscale_mode="range", keep_ratio=True),
                            dict(type="RandomFlip", flip_ratio=0.5),
                            dict(type="Pad", size_divisor=32)], dict(kind="polygon")),
}


def case_input(name, seed, classes):
    return copy.deepcopy(make_mask_results(seed, classes, **CASES[name][1]))


def mask_summary(masks):
    """A comparable summary of a mask object: bitmaps as arrays, polygons as coordinates."""
    kind = type(masks).__name__
    if kind == "BitmapMasks":
        return (kind, int(masks.height), int(masks.width),
                np.ascontiguousarray(masks.masks))
    return (kind, int(masks.height), int(masks.width),
            [[np.asarray(p, dtype=np.float64) for p in obj] for obj in masks.masks])


def summarize(out):
    if out is None:
        return None
    summary = gc.summarize(out)
    if "gt_masks" in out:
        summary["gt_masks"] = mask_summary(out["gt_masks"])
    if "gt_semantic_seg" in out:
        summary["gt_semantic_seg"] = np.ascontiguousarray(out["gt_semantic_seg"])
    return summary


# mask method calls: name -> (method, positional args, keyword args); applied to both kinds
# unless the name says which (``bitmap_`` / ``polygon_``).
BOXES = np.array([[2.3, 1.7, 20.9, 15.2], [0.0, 0.0, 31.5, 23.8], [10.2, 5.5, 11.0, 30.0],
                  [-3.0, 4.0, 12.0, 9.0]], dtype=np.float32)
METHODS = {
    "rescale_up": ("rescale", ((50, 40),), {}),
    "rescale_factor": ("rescale", (0.61,), {}),
    "resize": ("resize", ((17, 45),), {}),
    "flip_h": ("flip", ("horizontal",), {}),
    "flip_v": ("flip", ("vertical",), {}),
    "flip_d": ("flip", ("diagonal",), {}),
    "pad": ("pad", ((40, 50),), dict(pad_val=0)),
    "crop": ("crop", (np.array([3, 2, 25, 19]),), {}),
    "crop_outside": ("crop", (np.array([-4, 10, 40, 50]),), {}),
    "crop_and_resize": ("crop_and_resize", (BOXES, (7, 9), np.array([0, 1, 2, 0])), {}),
    "bitmap_crop_and_resize_soft": ("crop_and_resize", (BOXES, (6, 6), np.array([1, 1, 0, 2])),
                                    dict(binarize=False)),
    "bitmap_expand": ("expand", (40, 52, 7, 11), {}),
    "translate_h": ("translate", ((24, 32), 5.5), dict(direction="horizontal")),
    "translate_v": ("translate", ((24, 32), -4), dict(direction="vertical")),
    "shear_h": ("shear", ((24, 32), 0.3), dict(direction="horizontal")),
    "shear_v": ("shear", ((24, 32), -0.2), dict(direction="vertical")),
    "rotate": ("rotate", ((24, 32), 17.0), dict(center=(15.5, 11.5))),
    "rotate_scaled": ("rotate", ((24, 32), -40.0), dict(center=(10.0, 8.0), scale=0.8)),
    "bitmap_rotate_default_center": ("rotate", ((24, 32), 30.0), {}),
    "index_array": ("__getitem__", (np.array([2, 0]),), {}),
}


def method_input(seed, classes, kind):
    return make_mask_results(seed, classes, kind=kind)["gt_masks"]


def method_output(value):
    """Summary of a method's result: a mask object, an array (areas/bboxes) or a tensor."""
    if hasattr(value, "masks") and hasattr(value, "height"):
        return mask_summary(value)
    return np.asarray(value)


# COCO segmentations of one 20x24 image for LoadAnnotations: polygons (one object with two
# parts, one with a degenerate part), uncompressed RLE (as iscrowd annotations have).
def uncompressed_rle(bitmap):
    """``{'counts': [...], 'size': [h, w]}`` of a binary ``[h, w]`` array (column-major runs,
    starting with zeros), as COCO stores crowd annotations."""
    flat = bitmap.astype(np.uint8).reshape(-1, order="F")
    counts, value, run = [], 0, 0
    for v in flat:
        if v == value:
            run += 1
        else:
            counts.append(run)
            value, run = v, 1
    counts.append(run)
    return dict(counts=[int(c) for c in counts], size=[int(bitmap.shape[0]),
                                                      int(bitmap.shape[1])])


def load_annotations_input(with_rle):
    rng = np.random.RandomState(5)
    h, w = 20, 24
    segms = [
        [[1.0, 1.0, 9.5, 1.0, 9.5, 7.2, 1.0, 7.2], [12.0, 3.0, 20.0, 3.0, 16.0, 11.5]],
        [[2.0, 10.0, 8.0, 18.5, 2.0, 18.5], [5.0, 5.0, 6.0, 6.0]],
    ]
    if with_rle:
        segms.append(uncompressed_rle(rng.rand(h, w) > 0.6))
    boxes = np.array([[1, 1, 20, 12], [2, 10, 8, 19], [0, 0, 24, 20]][:len(segms)],
                     dtype=np.float32)
    return dict(img_info=dict(filename="x.png", height=h, width=w), img_shape=(h, w, 3),
                ann_info=dict(bboxes=boxes, labels=np.arange(len(segms), dtype=np.int64),
                              masks=copy.deepcopy(segms)),
                bbox_fields=[], mask_fields=[], seg_fields=[])


LOAD_CASES = {
    "poly2mask": (dict(type="LoadAnnotations", with_bbox=True, with_mask=True, poly2mask=True),
                  True),
    "polygons": (dict(type="LoadAnnotations", with_bbox=True, with_mask=True, poly2mask=False),
                 False),
}
