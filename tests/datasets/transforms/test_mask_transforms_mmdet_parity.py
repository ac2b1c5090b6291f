"""detbox's masks and mask-carrying transforms against real MMDetection 2.28.2 (bit-exact).

The golden is made by ``make_mask_transforms_golden.py`` in the side venv (mmdet 2.28.2,
mmcv-full 1.7.2, pycocotools); see ``mask_golden_cases.py`` for the inputs.
"""

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest

import tests.datasets.transforms.mask_golden_cases as mc
from detbox.datasets.transforms import Compose
from detbox.structures import BitmapMasks, PolygonMasks
from detbox.structures.masks import encode_mask_results
from detbox.structures.masks.functional import _mask_api
from tests.datasets.transforms.test_transforms_mmdet_parity import KNOWN_DIFFERENCES

GOLDEN = Path(__file__).parent / "data" / "mask_transforms_golden.pkl.gz"
CLASSES = (BitmapMasks, PolygonMasks)

EXPECTED_ERRORS = (ValueError, TypeError, KeyError, IndexError, NotImplementedError,
                   AssertionError)


@pytest.fixture(scope="module")
def golden():
    with gzip.open(GOLDEN, "rb") as f:
        return pickle.load(f)


def assert_same(ours, theirs, where):
    if theirs is None or ours is None:
        assert ours is theirs, f"{where}: {ours!r} vs MMDetection {theirs!r}"
        return
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs), f"{where}: keys {sorted(ours)} vs {sorted(theirs)}"
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, np.ndarray):
        ours = np.asarray(ours)
        assert ours.shape == theirs.shape, f"{where}: shape {ours.shape} vs {theirs.shape}"
        if theirs.dtype == bool or ours.dtype == bool:
            np.testing.assert_array_equal(ours.astype(bool), theirs.astype(bool), where)
        else:
            assert ours.dtype == theirs.dtype, f"{where}: dtype {ours.dtype} vs {theirs.dtype}"
            np.testing.assert_array_equal(ours, theirs, err_msg=where)
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs), \
            f"{where}: {ours!r} vs {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs, f"{where}: {ours!r} vs MMDetection {theirs!r}"


@pytest.mark.parametrize("name", sorted(mc.CASES))
def test_mask_pipeline_matches_mmdetection(golden, name):
    pipeline = Compose(mc.CASES[name][0])
    for seed in mc.SEEDS:
        np.random.seed(seed)
        ours = mc.summarize(pipeline(mc.case_input(name, seed, CLASSES)))
        theirs = golden["cases"][name][seed]
        base = name.rsplit("_", 1)[0]
        for key in KNOWN_DIFFERENCES.get(base, ()):
            if theirs is not None and key in theirs:
                assert ours[key] == ours["img"][0]
                ours[key] = theirs[key]
        assert_same(ours, theirs, f"{name}[seed={seed}]")


def test_mask_methods_match_mmdetection(golden):
    for (name, kind, seed), theirs in sorted(golden["methods"].items(), key=str):
        masks = mc.method_input(seed, CLASSES, kind)
        if name in ("areas", "get_bboxes", "to_ndarray"):
            value = getattr(masks, name)
            ours = np.asarray(value if name == "areas" else value())
            if name == "areas" and kind == "polygon":
                np.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=name)
                continue
        else:
            method, args, kwargs = mc.METHODS[name]
            if isinstance(theirs, tuple) and theirs and theirs[0] == "error":
                with pytest.raises(EXPECTED_ERRORS):
                    getattr(masks, method)(*args, **kwargs)
                continue
            ours = mc.method_output(getattr(masks, method)(*args, **kwargs))
        assert_same(ours, theirs, f"{name}/{kind}/{seed}")


def test_load_annotations_matches_mmdetection(golden):
    for name, (cfg, with_rle) in sorted(mc.LOAD_CASES.items()):
        theirs = golden["load"][name]
        if isinstance(theirs, tuple) and theirs[0] == "error":
            with pytest.raises(EXPECTED_ERRORS):
                Compose([cfg])(mc.load_annotations_input(with_rle))
            continue
        ours = mc.mask_summary(Compose([cfg])(mc.load_annotations_input(with_rle))["gt_masks"])
        assert_same(ours, theirs, name)


def test_rle_matches_pycocotools(golden):
    bitmaps = mc.method_input(0, CLASSES, "bitmap").masks.astype(bool)
    ours = encode_mask_results([list(bitmaps)])
    assert ours == golden["rle"]["encoded"]
    crowd = mc.load_annotations_input(True)["ann_info"]["masks"][2]
    assert _mask_api().frPyObjects(crowd, 20, 24) == golden["rle"]["crowd_compressed"]
