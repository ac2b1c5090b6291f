"""detbox's transforms against MMDetection 2.28.2's own outputs (bit-exact, same seeds).

The golden is made by ``make_transforms_golden.py`` (MMDetection's pipeline code under
mmcv 1.7.2, numpy 2.4 and OpenCV 5.0, the versions of detbox's venv).
"""

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest

import tests.datasets.transforms.transforms_golden_cases as gc
from detbox.datasets.transforms import Compose

GOLDEN = Path(__file__).parent / "data" / "transforms_golden.pkl.gz"

# Deliberate differences: MMDetection's Expand leaves img_shape at the pre-expand size
# (a later RandomFlip would then mirror boxes about the wrong width); detbox updates it.
KNOWN_DIFFERENCES = {"expand": {"img_shape"}}


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
        assert isinstance(ours, np.ndarray), f"{where}: {type(ours)} is not an array"
        assert ours.dtype == theirs.dtype, f"{where}: dtype {ours.dtype} vs {theirs.dtype}"
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
    elif isinstance(theirs, list) and where.endswith(".img"):  # MultiScaleFlipAug images
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, tuple) and len(theirs) == 4 and isinstance(theirs[2], str):
        # an image digest: (shape, dtype, sha1, channel means)
        assert ours[:2] == theirs[:2], f"{where}: shape/dtype {ours[:2]} vs {theirs[:2]}"
        assert ours[2] == theirs[2], (f"{where}: pixels differ; channel means {ours[3]} vs "
                                      f"MMDetection {theirs[3]}")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert type(ours) is type(theirs) or np.isscalar(ours), f"{where}: {ours!r} {theirs!r}"
        assert ours == theirs, f"{where}: {ours!r} vs MMDetection {theirs!r}"


@pytest.mark.parametrize("name", sorted(gc.CASES))
def test_transform_matches_mmdetection(golden, name):
    pipeline = Compose(gc.CASES[name][0])
    for seed in gc.SEEDS:
        np.random.seed(seed)
        ours = gc.summarize(pipeline(gc.case_input(name, seed)))
        theirs = golden["cases"][name][seed]
        for key in KNOWN_DIFFERENCES.get(name, ()):
            if theirs is not None and key in theirs:
                assert ours[key] == ours["img"][0]  # the shape of the output image
                ours[key] = theirs[key]
        assert_same(ours, theirs, f"{name}[seed={seed}]")


def test_loading_matches_mmdetection(golden, tmp_path):
    for fname, content in golden["files"].items():
        (tmp_path / fname).write_bytes(content)
    for (i, fname), theirs in golden["load"].items():
        load = Compose([gc.LOAD_CASES[i]])
        ours = load(dict(img_prefix=str(tmp_path), img_info=dict(filename=fname)))["img"]
        assert_same(ours, theirs, f"{gc.LOAD_CASES[i]} on {fname}")


def test_golden_covers_every_case(golden):
    assert set(golden["cases"]) == set(gc.CASES)
    assert all(set(v) == set(gc.SEEDS) for v in golden["cases"].values())
