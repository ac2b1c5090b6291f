"""Every config of MMDetection 2.28.2 loads to exactly what mmcv 1.7.2's loader gives.

The configs come from MMDetection's own wheel, which ``make`` downloads into
``.cache/mmdet/`` (see the Makefile); the expected dicts were recorded with mmcv
(``tests/data/mmdet_parity/make_golden.py``).
"""

import gzip
import json
import math
import warnings
import zipfile
from pathlib import Path

import pytest

from detbox.config import Config
from detbox.config.validate import validate_config
from tests.conftest import DATA, REPO

WHEEL = REPO / ".cache" / "mmdet" / "mmdet-2.28.2-py3-none-any.whl"
PREFIX = "mmdet/.mim/configs/"


def encode(value):
    """The golden file's canonical encoding (tuples and non-finite floats tagged)."""
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (bool, str, int)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": str(value)}
    if type(value) is list:
        return [encode(v) for v in value]
    if type(value) is tuple:
        return {"__tuple__": [encode(v) for v in value]}
    return {"__repr__": repr(value)}


@pytest.fixture(scope="module")
def mmdet_configs(tmp_path_factory) -> Path:
    assert WHEEL.is_file(), (
        f"{WHEEL} is missing: run `make install` (it runs `pip download --no-deps "
        f"mmdet==2.28.2 -d .cache/mmdet`)")
    root = tmp_path_factory.mktemp("mmdet")
    with zipfile.ZipFile(WHEEL) as zf:
        zf.extractall(root, [n for n in zf.namelist() if n.startswith(PREFIX)])
    return root / PREFIX


@pytest.fixture(scope="module")
def golden() -> dict:
    with gzip.open(DATA / "mmdet_parity" / "golden.json.gz") as f:
        return json.load(f)


def test_all_666_configs_load_exactly_as_mmcv_loads_them(mmdet_configs, golden):
    files = sorted(p.relative_to(mmdet_configs).as_posix() for p in mmdet_configs.rglob("*.py"))
    assert len(files) == 666 and set(files) == set(golden)
    mismatched = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rel in files:
            cfg = Config.fromfile(mmdet_configs / rel, import_custom_modules=False)
            if encode(cfg.to_dict()) != golden[rel]:
                mismatched.append(rel)
    assert mismatched == []


def test_all_mmdet_configs_pass_validation(mmdet_configs):
    failures = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in sorted(mmdet_configs.rglob("*.py")):
            cfg = Config.fromfile(path, import_custom_modules=False)
            try:
                validate_config(cfg)
            except ValueError as err:
                failures[path.name] = str(err)
    assert failures == {}


def test_mmdet_configs_pass_component_checks_except_two_real_bugs(mmdet_configs):
    """Argument checks of every registered component; MMDetection itself has two typos."""
    from detbox.apis.config import import_registering_packages
    from detbox.utils.config_check import check_config

    import_registering_packages()
    failures = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in sorted(mmdet_configs.rglob("*.py")):
            try:
                check_config(Config.fromfile(path, import_custom_modules=False))
            except ValueError as err:
                failures[path.relative_to(mmdet_configs).as_posix()] = str(err)
    assert sorted(failures) == ["objects365/retinanet_r50_fpn_syncbn_1350k_obj365v1.py",
                                "openimages/ssd300_32x8_36e_openimages.py"]
    # a RetinaNet config that inherits Faster R-CNN's model, and a misspelt argument
    retina, ssd = (failures[k] for k in sorted(failures))
    assert "did you mean 'roi_head'" in retina
    assert "'normed_bbox' (did you mean 'denorm_bbox'" in ssd


def test_our_copies_of_the_seed_configs_equal_mmdetection(mmdet_configs):
    ours = sorted((REPO / "configs").rglob("*.py"))
    copied = [p for p in ours if (mmdet_configs / p.relative_to(REPO / "configs")).is_file()]
    assert len(copied) >= 16
    for path in copied:
        theirs = mmdet_configs / path.relative_to(REPO / "configs")
        assert path.read_text() == theirs.read_text(), path
