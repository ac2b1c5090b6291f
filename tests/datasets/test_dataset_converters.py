"""Converters (VOC -> COCO, YOLO -> COCO, k-fold split) and their CLIs."""

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from detbox.datasets import CocoDataset, VOCDataset
from detbox.datasets.converters import kfold_split, voc_to_coco, yolo_to_coco

REPO = Path(__file__).resolve().parents[2]
BCCD_CLASSES = ("RBC", "WBC", "Platelets")
FEW = ["BloodImage_00000", "BloodImage_00338", "BloodImage_00343", "BloodImage_00010"]


def run_tool(name, *args):
    """Run a converter CLI as a user does (a new Python process)."""
    return subprocess.run([sys.executable, str(REPO / "tools/dataset_converters" / name), *args],
                          capture_output=True, text=True, cwd=REPO)


def tool_main(name):
    """The ``main`` of a converter CLI, loaded in this process (faster than a subprocess)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "tools/dataset_converters" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_voc_to_coco_round_trip_matches_voc_dataset(bccd_root, tmp_path):
    coco = voc_to_coco(bccd_root, ids=FEW, classes=BCCD_CLASSES)
    assert [c["name"] for c in coco["categories"]] == list(BCCD_CLASSES)
    assert [im["file_name"] for im in coco["images"]] == [f"JPEGImages/{i}.jpg" for i in FEW]
    ann_file = tmp_path / "few.json"
    ann_file.write_text(json.dumps(coco))
    split = tmp_path / "few.txt"
    split.write_text("\n".join(FEW))
    from_coco = CocoDataset(ann_file=str(ann_file), pipeline=[], classes=BCCD_CLASSES,
                            img_prefix=str(bccd_root) + "/", test_mode=True)
    from_voc = VOCDataset(ann_file=str(split), pipeline=[], classes=BCCD_CLASSES,
                          img_prefix=str(bccd_root) + "/", test_mode=True)
    assert len(from_coco) == len(from_voc) == 4
    for i in range(4):
        assert from_coco.data_infos[i]["filename"] == from_voc.data_infos[i]["filename"]
        a, b = from_coco.get_ann_info(i), from_voc.get_ann_info(i)
        np.testing.assert_array_equal(a["bboxes"], b["bboxes"])
        np.testing.assert_array_equal(a["labels"], b["labels"])
        np.testing.assert_array_equal(a["bboxes_ignore"], b["bboxes_ignore"])
    assert len(from_voc.get_ann_info(1)["bboxes"]) == 13  # zero-area box gone in both


def test_voc2coco_cli(bccd_root, tmp_path):
    out = tmp_path / "val.json"
    result = run_tool("voc2coco.py", str(bccd_root), "--split", "val", "--out", str(out))
    assert result.returncode == 0, result.stderr
    coco = json.loads(out.read_text())
    assert len(coco["images"]) == 87
    assert sorted(c["name"] for c in coco["categories"]) == sorted(BCCD_CLASSES)
    assert "87 images" in result.stdout


def test_voc2coco_cli_error(tmp_path, capsys):
    main = tool_main("voc2coco.py")
    assert main([str(tmp_path), "--split", "val", "--out", str(tmp_path / "x.json")]) == 1
    assert "val.txt" in capsys.readouterr().err


@pytest.fixture
def yolo_set(tmp_path):
    images, labels = tmp_path / "images" / "train", tmp_path / "labels" / "train"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    cv2.imwrite(str(images / "one.jpg"), np.zeros((50, 100, 3), np.uint8))  # w=100, h=50
    cv2.imwrite(str(images / "two.png"), np.zeros((80, 40, 3), np.uint8))   # w=40, h=80
    cv2.imwrite(str(images / "three.jpg"), np.zeros((64, 64, 3), np.uint8))  # no labels
    # one.jpg: a box [10, 5, 50, 25] (class 1) and [0, 0, 100, 50] (class 0)
    (labels / "one.txt").write_text("1 0.3 0.3 0.4 0.4\n0 0.5 0.5 1 1\n\n")
    (labels / "two.txt").write_text("0 0.25 0.5 0.5 0.25\n")  # [0, 30, 20, 50]
    (tmp_path / "classes.txt").write_text("car\nperson\n")
    return tmp_path


def test_yolo_to_coco(yolo_set):
    coco = yolo_to_coco(yolo_set / "images" / "train", yolo_set / "classes.txt")
    assert [c["name"] for c in coco["categories"]] == ["car", "person"]
    names = {im["file_name"]: im for im in coco["images"]}
    assert set(names) == {"one.jpg", "two.png", "three.jpg"}
    assert (names["one.jpg"]["width"], names["one.jpg"]["height"]) == (100, 50)
    assert (names["two.png"]["width"], names["two.png"]["height"]) == (40, 80)
    boxes = {(a["image_id"], a["category_id"]): a["bbox"] for a in coco["annotations"]}
    one, two = names["one.jpg"]["id"], names["two.png"]["id"]
    np.testing.assert_allclose(boxes[(one, 2)], [10, 5, 40, 20])
    np.testing.assert_allclose(boxes[(one, 1)], [0, 0, 100, 50])
    np.testing.assert_allclose(boxes[(two, 1)], [0, 30, 20, 20])
    assert len(coco["annotations"]) == 3


def test_yolo_errors_name_file_and_line(yolo_set):
    (yolo_set / "labels" / "train" / "two.txt").write_text("0 0.5 0.5 0.1 0.1\n5 0.5 0.5 1 1\n")
    with pytest.raises(ValueError, match=r"two.txt:2: class index 5 is not in 0..1"):
        yolo_to_coco(yolo_set / "images" / "train", ["car", "person"])
    (yolo_set / "labels" / "train" / "two.txt").write_text("0 0.5 0.5\n")
    with pytest.raises(ValueError, match=r"two.txt:1: expected 'class cx cy w h'"):
        yolo_to_coco(yolo_set / "images" / "train", ["car", "person"])


def test_yolo2coco_cli_output_loads(yolo_set):
    out = yolo_set / "train.json"
    main = tool_main("yolo2coco.py")
    assert main([str(yolo_set / "images" / "train"), "--classes", str(yolo_set / "classes.txt"),
                 "--out", str(out)]) == 0
    ds = CocoDataset(ann_file=str(out), pipeline=[], classes=("car", "person"),
                     img_prefix=str(yolo_set / "images" / "train"))
    assert len(ds) == 2  # three.jpg has no boxes


def synthetic_coco(num_images=60, seed=0):
    rng = np.random.default_rng(seed)
    images = [dict(id=100 + i, file_name=f"{i}.jpg", width=64, height=64)
              for i in range(num_images)]
    anns = []
    for img in images:
        # a common class, a rarer one, a rare one; some images empty
        for cat, p in ((1, 0.7), (2, 0.25), (3, 0.1)):
            for _ in range(rng.integers(1, 4) if rng.random() < p else 0):
                anns.append(dict(id=len(anns) + 1, image_id=img["id"], category_id=cat,
                                 bbox=[1, 1, 10, 10], area=100, iscrowd=0))
    cats = [dict(id=i, name=n) for i, n in ((1, "common"), (2, "rarer"), (3, "rare"))]
    return dict(images=images, annotations=anns, categories=cats, info={"v": 1})


def test_kfold_split_is_grouped_stratified_and_seeded():
    coco = synthetic_coco()
    folds = kfold_split(coco, num_folds=5, seed=0)
    all_ids = {im["id"] for im in coco["images"]}
    val_seen = Counter()
    per_class = []
    for train, val in folds:
        train_ids = {im["id"] for im in train["images"]}
        val_ids = {im["id"] for im in val["images"]}
        assert train_ids | val_ids == all_ids and not train_ids & val_ids
        assert all(a["image_id"] in val_ids for a in val["annotations"])
        assert all(a["image_id"] in train_ids for a in train["annotations"])
        assert len(train["annotations"]) + len(val["annotations"]) == len(coco["annotations"])
        assert train["categories"] == coco["categories"] and val["info"] == {"v": 1}
        val_seen.update(val_ids)
        per_class.append(Counter(a["category_id"] for a in val["annotations"]))
        assert 10 <= len(val_ids) <= 14  # 60 images: about 12 per fold
    assert set(val_seen) == all_ids and set(val_seen.values()) == {1}  # one val fold each
    totals = Counter(a["category_id"] for a in coco["annotations"])
    for cat, total in totals.items():
        counts = [c[cat] for c in per_class]
        assert max(counts) - min(counts) <= max(3, total // 10), (cat, counts)
    assert kfold_split(coco, 5, seed=0) == folds
    assert kfold_split(coco, 5, seed=1) != folds


def test_kfold_cli(tmp_path):
    src = tmp_path / "all.json"
    src.write_text(json.dumps(synthetic_coco(20)))
    main = tool_main("kfold_split.py")
    assert main([str(src), "--folds", "3", "--out-dir", str(tmp_path / "folds")]) == 0
    names = sorted(p.name for p in (tmp_path / "folds").iterdir())
    assert names == ["train0.json", "train1.json", "train2.json", "val0.json", "val1.json",
                     "val2.json"]
    val_sizes = [len(json.loads((tmp_path / "folds" / f"val{k}.json").read_text())["images"])
                 for k in range(3)]
    assert sum(val_sizes) == 20
