"""The inference API on the tiny Faster R-CNN with random weights: inputs, batching, drawing,
checkpoints and errors."""

import cv2
import numpy as np
import pytest
import torch

from detbox.apis import inference_detector, init_detector, show_result
from tests.conftest import REPO

TINY = str(REPO / "configs/faster_rcnn/faster_rcnn_r18_fpn_tiny_1x_coco.py")
CLASSES = ("a", "b", "c")
OPTIONS = {"model.roi_head.bbox_head.num_classes": 3, "data.test.classes": CLASSES}


def random_image(h, w, seed):
    """A smooth random BGR image (detections of random weights vary more on smooth input)."""
    rng = np.random.RandomState(seed)
    small = rng.randint(0, 256, (4, 4, 3)).astype(np.float32)
    noise = rng.randint(-20, 21, (h, w, 3))
    return np.clip(cv2.resize(small, (w, h)) + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def model():
    model = init_detector(TINY, cfg_options=OPTIONS)
    torch.manual_seed(0)
    model.init_weights()
    return model.eval()


def assert_same(res_a, res_b):
    """Two results agree: same detections per class, boxes and scores to float32 noise.

    Batched and single convolutions may sum in another order on CPU, moving values by a
    few float32 ulps (here they were bit-identical); 1e-3 px on boxes under 300 px and 1e-5
    on scores allow that and nothing a real difference would hide in.
    """
    assert len(res_a) == len(res_b)
    for a, b in zip(res_a, res_b):
        assert a.shape == b.shape
        np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=0, atol=1e-3)
        np.testing.assert_allclose(a[:, 4], b[:, 4], rtol=0, atol=1e-5)


def num_dets(result):
    return sum(len(r) for r in result)


def test_path_array_and_list_give_the_same_result(model, tmp_path):
    img = random_image(120, 160, 0)
    path = tmp_path / "img.png"
    cv2.imwrite(str(path), img)
    from_path = inference_detector(model, str(path))
    from_array = inference_detector(model, img)
    from_list = inference_detector(model, [str(path), img])
    assert num_dets(from_path) > 0  # random weights still detect: the comparison has content
    assert_same(from_path, from_array)
    assert isinstance(from_list, list) and len(from_list) == 2
    assert_same(from_list[0], from_path)
    assert_same(from_list[1], from_path)
    assert inference_detector(model, []) == []


def test_result_format(model):
    h, w = 120, 160
    result = inference_detector(model, random_image(h, w, 1))
    assert isinstance(result, list) and len(result) == len(CLASSES)
    for dets in result:
        assert isinstance(dets, np.ndarray) and dets.dtype == np.float32
        assert dets.ndim == 2 and dets.shape[1] == 5
        x1, y1, x2, y2, score = dets.T
        # boxes are in original-image pixels, clipped to the image
        assert (x1 >= 0).all() and (y1 >= 0).all() and (x2 <= w).all() and (y2 <= h).all()
        assert (x1 <= x2).all() and (y1 <= y2).all()
        assert (score > model.cfg.model.test_cfg.rcnn.score_thr).all() and (score <= 1).all()
        assert (np.diff(score) <= 0).all()  # best first
    assert num_dets(result) <= model.cfg.model.test_cfg.rcnn.max_per_img


def forward_batches(model):
    """Batch sizes seen by the backbone while the returned list is alive."""
    sizes = []
    handle = model.backbone.register_forward_hook(lambda m, inp, out: sizes.append(len(inp[0])))
    return sizes, handle


def test_batched_equals_one_by_one_for_same_size_images(model):
    images = [random_image(120, 160, seed) for seed in (2, 3, 4)]
    sizes, handle = forward_batches(model)
    try:
        batched = inference_detector(model, images)
    finally:
        handle.remove()
    assert sizes == [3]  # one forward for the list
    singles = [inference_detector(model, img) for img in images]
    assert all(num_dets(r) > 0 for r in singles)
    for b, s in zip(batched, singles):
        assert_same(b, s)
    # the images really differ, so matching results are not a coincidence
    assert not np.array_equal(singles[0][0], singles[1][0])


def test_batched_different_sizes_each_equal_its_own_result(model):
    # 120x160 and 118x158 both pad to 192x256 (one batch); 200x100 pads to another size
    images = [random_image(120, 160, 5), random_image(118, 158, 6), random_image(200, 100, 7)]
    sizes, handle = forward_batches(model)
    try:
        batched = inference_detector(model, images)
    finally:
        handle.remove()
    assert sorted(sizes) == [1, 2]
    for img, res in zip(images, batched):
        single = inference_detector(model, img)
        assert num_dets(single) > 0
        assert_same(res, single)
        h, w = img.shape[:2]
        boxes = np.vstack(res)
        assert boxes[:, 2].max() <= w and boxes[:, 3].max() <= h


def test_show_result_writes_a_png_with_the_boxes(tmp_path):
    img = np.full((100, 120, 3), 128, np.uint8)
    result = [
        np.array([[10, 20, 60, 70, 0.9], [5, 80, 40, 95, 0.1]], np.float32),  # 2nd: below thr
        np.array([[70, 10, 110, 50, 0.8]], np.float32),
    ]
    out = tmp_path / "vis" / "out.png"
    palette = [(255, 0, 0), (0, 0, 255)]  # RGB: class 0 red, class 1 blue
    drawn = show_result(img, result, class_names=("p", "q"), score_thr=0.3, bbox_color=palette,
                        out_file=str(out))
    back = cv2.imread(str(out))
    assert back is not None and back.shape == (100, 120, 3)
    np.testing.assert_array_equal(back, drawn)
    red, blue, grey = [0, 0, 255], [255, 0, 0], [128, 128, 128]
    # edges of the class-0 box (left, right, bottom; the label sits above its top edge)
    for x, y in [(10, 45), (60, 45), (35, 70)]:
        assert back[y, x].tolist() == red, (x, y)
    for x, y in [(70, 30), (110, 30), (90, 50)]:  # (its top edge is under its label)
        assert back[y, x].tolist() == blue, (x, y)
    for x, y in [(35, 45), (90, 30), (5, 88), (22, 95), (40, 88)]:  # insides; hidden box
        assert back[y, x].tolist() == grey, (x, y)
    # the class-0 label: a black plate with text just above the box
    label = back[5:20, 10:40].reshape(-1, 3).tolist()
    assert [0, 0, 0] in label and grey not in label
    assert (back[5:20, 10:40] > 60).any()  # text pixels on the plate
    assert (img == 128).all()  # the input is not drawn on


def test_init_detector_reads_classes_and_weights_from_checkpoint(model, tmp_path):
    ckpt = tmp_path / "model.pth"
    torch.save({"meta": {"CLASSES": ("x", "y", "z")}, "state_dict": model.state_dict()}, ckpt)
    loaded = init_detector(TINY, str(ckpt), cfg_options=OPTIONS)
    assert loaded.CLASSES == ("x", "y", "z")
    assert not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    img = random_image(120, 160, 8)
    assert_same(inference_detector(loaded, img), inference_detector(model, img))
    # without a checkpoint the config's test classes name the labels
    assert model.CLASSES == CLASSES


def test_missing_image_names_the_path(model, tmp_path):
    missing = tmp_path / "no_such_image.jpg"
    with pytest.raises(FileNotFoundError, match="no_such_image.jpg"):
        inference_detector(model, str(missing))
    with pytest.raises(FileNotFoundError, match="no_such_image.jpg"):
        inference_detector(model, [random_image(64, 64, 0), str(missing)])
