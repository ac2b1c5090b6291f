"""detbox.apis.demo and demo/image_demo.py: images, folders and videos in, drawings out."""

import importlib.util
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from detbox.apis import inference_detector, init_detector
from detbox.apis.demo import detect_images, draw_result, list_images, run_demo, source_kind
from tests.conftest import REPO

TINY = str(REPO / "configs/faster_rcnn/faster_rcnn_r18_fpn_tiny_1x_coco.py")
NUM_CLASSES = "model.roi_head.bbox_head.num_classes=3"
CLASSES = ("a", "b", "c")


def random_image(h, w, seed):
    rng = np.random.RandomState(seed)
    small = rng.randint(0, 256, (4, 4, 3)).astype(np.float32)
    return np.clip(cv2.resize(small, (w, h)) + rng.randint(-20, 21, (h, w, 3)), 0, 255
                   ).astype(np.uint8)


@pytest.fixture(scope="module")
def model():
    model = init_detector(TINY, cfg_options={"model.roi_head.bbox_head.num_classes": 3,
                                             "data.test.classes": CLASSES})
    torch.manual_seed(0)
    model.init_weights()
    return model.eval()


@pytest.fixture(scope="module")
def checkpoint(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pth"
    torch.save({"meta": {"CLASSES": CLASSES}, "state_dict": model.state_dict()}, path)
    return path


def write_video(path, frames, fps=5):
    """Write ``frames`` with mp4v (.mp4) or MJPG (.avi); the path actually written."""
    h, w = frames[0].shape[:2]
    for suffix, codec in ((".mp4", "mp4v"), (".avi", "MJPG")):
        out = path.with_suffix(suffix)
        writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*codec), fps, (w, h))
        if writer.isOpened():
            for frame in frames:
                writer.write(frame)
            writer.release()
            return out
    pytest.fail("OpenCV can write neither mp4v nor MJPG video here")


def read_video(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def test_source_kind_and_list_images(tmp_path):
    for name in ("b.png", "a.JPG", "notes.txt", "c.jpeg"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.png").mkdir()
    assert list_images(tmp_path) == [str(tmp_path / n) for n in ("a.JPG", "b.png", "c.jpeg")]
    assert source_kind(tmp_path) == "folder"
    assert source_kind("x/clip.avi") == "video" and source_kind("x/pic.bmp") == "image"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list_images(tmp_path / "nowhere")


def test_single_image_drawing_is_the_result_drawn(model, tmp_path):
    img = random_image(90, 120, 1)
    src = tmp_path / "in.png"
    cv2.imwrite(str(src), img)
    written = run_demo(model, src, out_dir=str(tmp_path / "out"), score_thr=0.05,
                       progress=False)
    assert written == [str(tmp_path / "out" / "in.png")]
    expected = draw_result(model, img, inference_detector(model, img), score_thr=0.05)
    assert not np.array_equal(expected, img)  # something was drawn
    np.testing.assert_array_equal(cv2.imread(written[0]), expected)


def test_folder_runs_in_batches(model, tmp_path):
    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"{i}.png"))
        cv2.imwrite(paths[-1], random_image(60, 80, i))
    sizes = []
    handle = model.backbone.register_forward_hook(lambda m, inp, out: sizes.append(len(inp[0])))
    try:
        written = detect_images(model, paths, str(tmp_path / "out"), batch_size=2,
                                progress=False)
    finally:
        handle.remove()
    assert sizes == [2, 1]
    assert written == [str(tmp_path / "out" / f"{i}.png") for i in range(3)]


def test_missing_inputs_are_named(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="gone.jpg"):
        run_demo(model, tmp_path / "gone.jpg", out_dir=str(tmp_path), progress=False)
    with pytest.raises(FileNotFoundError, match="gone.mp4"):
        run_demo(model, tmp_path / "gone.mp4", out_dir=str(tmp_path), progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        run_demo(model, tmp_path / "empty", progress=False)


def test_cli_reports_a_missing_image(checkpoint, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("image_demo", REPO / "demo/image_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    code = module.main([str(tmp_path / "gone.jpg"), TINY, str(checkpoint),
                        "--cfg-options", NUM_CLASSES])
    assert code == 1
    assert "gone.jpg" in capsys.readouterr().err


def run_cli(*args):
    return subprocess.run([sys.executable, str(REPO / "demo/image_demo.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=REPO)


def test_cli_on_a_folder(checkpoint, tmp_path):
    src = tmp_path / "imgs"
    src.mkdir()
    cv2.imwrite(str(src / "one.png"), random_image(64, 80, 2))
    cv2.imwrite(str(src / "two.jpg"), random_image(72, 56, 3))
    (src / "readme.txt").write_text("not an image")
    out = tmp_path / "out"
    result = run_cli(src, TINY, checkpoint, "--out-dir", out, "--score-thr", "0.05",
                     "--cfg-options", NUM_CLASSES)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["one.png", "two.jpg"]
    assert cv2.imread(str(out / "one.png")).shape == (64, 80, 3)
    assert cv2.imread(str(out / "two.jpg")).shape == (72, 56, 3)
    assert "img/s" in result.stderr or "2/2" in result.stderr  # the progress bar


def test_cli_on_a_video(checkpoint, tmp_path):
    frames = [random_image(96, 128, 10 + i) for i in range(5)]
    video = write_video(tmp_path / "clip", frames)
    out = tmp_path / "out" / f"drawn{video.suffix}"
    result = run_cli(video, TINY, checkpoint, "--out-file", out, "--batch-size", "2",
                     "--cfg-options", NUM_CLASSES)
    assert result.returncode == 0, result.stderr
    assert "5/5" in result.stderr  # the progress bar reached the last frame
    drawn = read_video(out)
    assert len(drawn) == 5 and drawn[0].shape == (96, 128, 3)
