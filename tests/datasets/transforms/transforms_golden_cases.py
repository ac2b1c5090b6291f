"""Inputs and transform configs shared by the MMDetection parity golden and its test.

Only numpy and OpenCV here: ``make_transforms_golden.py`` imports this module in a side
venv with mmcv 1.7 (no torch, no detbox) and records MMDetection 2.28.2's outputs;
``test_transforms_mmdet_parity.py`` runs detbox's transforms on the same inputs.
"""

import copy

import numpy as np

SEEDS = (0, 1, 2, 3, 4, 5)

# Keys of a transform's output compared with MMDetection's.
COMPARED_KEYS = ("img", "gt_bboxes", "gt_labels", "gt_bboxes_ignore", "img_shape", "pad_shape",
                 "scale_factor", "flip", "flip_direction", "scale", "scale_idx", "keep_ratio",
                 "pad_fixed_size", "pad_size_divisor", "img_norm_cfg", "border")

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)


def make_results(seed, h=24, w=32, n=5, float_img=False, smooth=True):
    """A v2 results dict after loading: image, boxes, labels, one ignored box."""
    rng = np.random.RandomState(1000 + seed)
    if smooth:
        yy, xx = np.mgrid[0:h, 0:w]
        a, b, phase = rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.9), rng.uniform(0, 6)
        wave = 128 + 100 * np.sin(xx * a + yy * b + phase)
        img = np.stack([(xx * 255 / max(w - 1, 1)), (yy * 255 / max(h - 1, 1)), wave],
                       axis=-1).astype(np.uint8)
    else:
        img = rng.randint(0, 256, (h, w, 3)).astype(np.uint8)
    if float_img:
        img = img.astype(np.float32)
    x1 = rng.uniform(0, w * 0.7, n)
    y1 = rng.uniform(0, h * 0.7, n)
    bw = rng.uniform(1.5, w * 0.5, n)
    bh = rng.uniform(1.5, h * 0.5, n)
    boxes = np.stack([x1, y1, np.minimum(x1 + bw, w), np.minimum(y1 + bh, h)], 1)
    ignore = np.array([[1.0, 2.0, w / 2, h / 2]], dtype=np.float32)
    return dict(
        filename=f"img{seed}.jpg", ori_filename=f"img{seed}.jpg", img=img,
        img_shape=img.shape, ori_shape=img.shape, img_fields=["img"],
        bbox_fields=["gt_bboxes_ignore", "gt_bboxes"], mask_fields=[], seg_fields=[],
        gt_bboxes=boxes.astype(np.float32), gt_labels=rng.randint(0, 80, n).astype(np.int64),
        gt_bboxes_ignore=ignore,
    )


def make_mix_results(seed, count, **kwargs):
    results = make_results(seed, **kwargs)
    results["mix_results"] = [make_results(seed + 100 * (i + 1), h=20 + 4 * i, w=30 - 3 * i)
                              for i in range(count)]
    return results


# name -> (transform config list (composed), input builder, builder kwargs)
CASES = {
    "resize_keep_ratio": ([dict(type="Resize", img_scale=(50, 40), keep_ratio=True)], {}),
    "resize_keep_ratio_odd": ([dict(type="Resize", img_scale=[(37, 23), (12, 10)],
                                    multiscale_mode="value", keep_ratio=True)],
                              dict(h=31, w=17)),
    "resize_no_keep_ratio": ([dict(type="Resize", img_scale=(45, 20), keep_ratio=False)], {}),
    "resize_range": ([dict(type="Resize", img_scale=[(60, 20), (40, 30)],
                           multiscale_mode="range")], {}),
    "resize_value": ([dict(type="Resize", img_scale=[(60, 20), (40, 30), (33, 33)],
                           multiscale_mode="value", keep_ratio=False)], {}),
    "resize_ratio_range": ([dict(type="Resize", img_scale=(40, 30), ratio_range=(0.5, 1.5))],
                           {}),
    "resize_no_clip": ([dict(type="Resize", img_scale=(20, 10), bbox_clip_border=False)], {}),
    "resize_nearest": ([dict(type="Resize", img_scale=(70, 50), interpolation="nearest")], {}),
    "resize_float": ([dict(type="Resize", img_scale=(30, 20))], dict(float_img=True)),
    "flip_h": ([dict(type="RandomFlip", flip_ratio=0.5)], {}),
    "flip_list": ([dict(type="RandomFlip", flip_ratio=[0.3, 0.3, 0.2],
                        direction=["horizontal", "vertical", "diagonal"])], {}),
    "flip_shared": ([dict(type="RandomFlip", flip_ratio=0.9,
                          direction=["vertical", "diagonal"])], {}),
    "pad_divisor": ([dict(type="Pad", size_divisor=32)], dict(h=33, w=40)),
    "pad_size": ([dict(type="Pad", size=(40, 50))], {}),
    "pad_square": ([dict(type="Pad", pad_to_square=True, pad_val=dict(img=(114, 114, 114)))],
                   {}),
    "pad_int_val": ([dict(type="Pad", size_divisor=16, pad_val=dict(img=114))], dict(h=20)),
    "normalize": ([dict(type="Normalize", **NORM)], dict(smooth=False, h=16, w=16)),
    "normalize_bgr": ([dict(type="Normalize", mean=[1, 2, 3], std=[4, 5, 6], to_rgb=False)],
                      dict(smooth=False, h=16, w=16)),
    "normalize_float": ([dict(type="Normalize", **NORM)], dict(float_img=True, h=16, w=16)),
    "crop_absolute": ([dict(type="RandomCrop", crop_size=(12, 20))], {}),
    "crop_absolute_range": ([dict(type="RandomCrop", crop_size=(8, 30),
                                  crop_type="absolute_range", allow_negative_crop=True)], {}),
    "crop_relative": ([dict(type="RandomCrop", crop_size=(0.5, 0.6), crop_type="relative")],
                      {}),
    "crop_relative_range": ([dict(type="RandomCrop", crop_size=(0.3, 0.7),
                                  crop_type="relative_range")], {}),
    "crop_no_clip": ([dict(type="RandomCrop", crop_size=(10, 10), bbox_clip_border=False,
                           allow_negative_crop=True)], {}),
    "min_iou_crop": ([dict(type="MinIoURandomCrop")], dict(h=40, w=48)),
    "expand": ([dict(type="Expand", mean=NORM["mean"], to_rgb=True, ratio_range=(1, 3),
                     prob=0.7)], {}),
    "photometric": ([dict(type="PhotoMetricDistortion")], {}),
    "yolox_hsv": ([dict(type="YOLOXHSVRandomAug")], {}),
    "random_affine": ([dict(type="RandomAffine", max_rotate_degree=20.0)], {}),
    "random_affine_filter": ([dict(type="RandomAffine", scaling_ratio_range=(0.3, 1.6),
                                   border=(-4, -6), skip_filter=False)], dict(h=30, w=40)),
    "random_shift": ([dict(type="RandomShift", shift_ratio=0.8, max_shift_px=8)], {}),
    "cutout": ([dict(type="CutOut", n_holes=(1, 4), cutout_shape=[(4, 4), (6, 3)])], {}),
    "cutout_ratio": ([dict(type="CutOut", n_holes=2, cutout_ratio=(0.2, 0.3),
                           fill_in=(255, 0, 0))], {}),
    "filter_annotations": ([dict(type="FilterAnnotations", min_gt_bbox_wh=(4.0, 4.0))], {}),
    "coco_train": ([dict(type="Resize", img_scale=(53, 32), keep_ratio=True),
                    dict(type="RandomFlip", flip_ratio=0.5),
                    dict(type="Normalize", **NORM),
                    dict(type="Pad", size_divisor=32)], {}),
    "ssd_train": ([dict(type="PhotoMetricDistortion"),
                   dict(type="Expand", mean=NORM["mean"], to_rgb=True, ratio_range=(1, 4)),
                   dict(type="MinIoURandomCrop", min_ious=(0.1, 0.3, 0.5, 0.7, 0.9),
                        min_crop_size=0.3),
                   dict(type="Resize", img_scale=(30, 30), keep_ratio=False),
                   dict(type="RandomFlip", flip_ratio=0.5)], {}),
    "msfa": ([dict(type="MultiScaleFlipAug", img_scale=[(30, 20), (20, 12)], flip=True,
                   flip_direction=["horizontal", "vertical"],
                   transforms=[dict(type="Resize", keep_ratio=True),
                               dict(type="RandomFlip"),
                               dict(type="Normalize", **NORM),
                               dict(type="Pad", size_divisor=8)])], {}),
    "msfa_scale_factor": ([dict(type="MultiScaleFlipAug", scale_factor=[0.5, 1.5], flip=False,
                                transforms=[dict(type="Resize", keep_ratio=True)])], {}),
    "center_crop_pad_train": ([dict(type="RandomCenterCropPad", crop_size=(20, 24),
                                    ratios=(0.6, 0.8, 1.0, 1.2), border=8,
                                    test_pad_mode=None, **NORM)],
                              dict(float_img=True, h=30, w=40)),
    "center_crop_pad_small": ([dict(type="RandomCenterCropPad", crop_size=(12, 12),
                                    ratios=(1.0,), border=64, to_rgb=False, test_pad_mode=None,
                                    mean=[1.0, 2.0, 3.0], std=[1.0, 1.0, 1.0])],
                              dict(float_img=True)),
    "center_crop_pad_test": ([dict(type="RandomCenterCropPad", crop_size=None, ratios=None,
                                   border=None, test_mode=True, test_pad_add_pix=1, **NORM)],
                             dict(float_img=True, h=21, w=35)),
    "center_crop_pad_test_div": ([dict(type="RandomCenterCropPad", crop_size=None, ratios=None,
                                       border=None, test_mode=True,
                                       test_pad_mode=("size_divisor", 16), **NORM)],
                                 dict(float_img=True, h=21, w=35)),
    "mosaic": ([dict(type="Mosaic", img_scale=(24, 30))], dict(mix=3)),
    "mosaic_filter": ([dict(type="Mosaic", img_scale=(20, 20), center_ratio_range=(0.8, 1.2),
                            min_bbox_size=3, skip_filter=False, pad_val=50)], dict(mix=3)),
    "mixup": ([dict(type="MixUp", img_scale=(24, 30))], dict(mix=1)),
    "mixup_filter": ([dict(type="MixUp", img_scale=(28, 28), ratio_range=(0.8, 1.6),
                           flip_ratio=0.7, skip_filter=False)], dict(mix=1)),
}


def case_input(name, seed):
    """The input results of case ``name`` for ``seed`` (a fresh deep copy)."""
    kwargs = dict(CASES[name][1])
    mix = kwargs.pop("mix", 0)
    if mix:
        return copy.deepcopy(make_mix_results(seed, mix, **kwargs))
    return copy.deepcopy(make_results(seed, **kwargs))


def image_digest(img):
    """``(shape, dtype, sha1 of the bytes, per-channel mean)``: images are compared exactly
    through their digest (keeps the golden small); the means tell how far off a mismatch is."""
    import hashlib

    img = np.ascontiguousarray(img)
    means = img.reshape(-1, img.shape[2]).mean(0) if img.ndim == 3 else img.mean(keepdims=True)
    return (img.shape, str(img.dtype), hashlib.sha1(img.tobytes()).hexdigest(),
            np.round(means.astype(np.float64), 4).tolist())


def summarize(out):
    """The compared part of a transform's output (``None`` stays ``None``)."""
    if out is None:
        return None
    if isinstance(out.get("img"), list):  # MultiScaleFlipAug: dict of lists
        return {k: [image_digest(v) if k == "img" else v for v in out[k]]
                for k in COMPARED_KEYS if k in out}
    summary = {}
    for key in COMPARED_KEYS:
        if key in out:
            value = out[key]
            if key == "img":
                value = image_digest(value)
            elif isinstance(value, np.ndarray):
                value = np.ascontiguousarray(value)
            summary[key] = value
    return summary


def encoded_images():
    """Encoded test files for the loading golden: name -> bytes (made with OpenCV)."""
    import cv2

    yy, xx = np.mgrid[0:18, 0:26]
    color = np.stack([xx * 9, yy * 13, (xx + yy) * 5], -1).astype(np.uint8)
    rgba = np.concatenate([color, np.full((18, 26, 1), 128, np.uint8)], -1)
    files = {
        "color.jpg": cv2.imencode(".jpg", color, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes(),
        "color.png": cv2.imencode(".png", color)[1].tobytes(),
        "grey.png": cv2.imencode(".png", color[..., 1])[1].tobytes(),
        "rgba.png": cv2.imencode(".png", rgba)[1].tobytes(),
    }
    for orientation in (3, 6, 8):  # rotate 180, 90 clockwise, 90 counter-clockwise
        files[f"exif{orientation}.jpg"] = exif_jpeg(color[..., ::-1], orientation)
    return files


def exif_jpeg(rgb, orientation):
    """JPEG bytes of ``rgb`` with an EXIF Orientation tag (written with Pillow)."""
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, "JPEG", quality=95,
                                                    exif=exif.tobytes())
    return buf.getvalue()


LOAD_CASES = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadImageFromFile", to_float32=True),
    dict(type="LoadImageFromFile", channel_order="rgb"),
    dict(type="LoadImageFromFile", color_type="grayscale"),
    dict(type="LoadImageFromFile", color_type="unchanged"),
]
