"""num_classes of the heads follows the dataset configs' classes."""

from __future__ import annotations

import pytest

from detbox.apis.config import load_config
from detbox.apis.num_classes import config_classes, sync_num_classes
from detbox.config import Config
from detbox.config.validate import ConfigValidationError
from tests.conftest import REPO

CASCADE = str(REPO / "configs/cascade_rcnn/cascade_rcnn_r50_fpn_1x_coco.py")


def test_cascade_heads_follow_and_rpn_keeps_its_own():
    cfg = load_config(CASCADE)
    cfg.data.train.classes = ("a", "b", "c", "d")
    assert sync_num_classes(cfg) == ("num_classes 80 -> 4 from data.train.classes "
                                     "(roi_head.bbox_head.0, .1, .2)")
    assert [h.num_classes for h in cfg.model.roi_head.bbox_head] == [4, 4, 4]
    assert "num_classes" not in cfg.model.rpn_head
    assert sync_num_classes(cfg) is None  # already agree: untouched, nothing logged


def test_train_val_test_must_agree():
    cfg = Config(dict(model=dict(bbox_head=dict(num_classes=80)), data=dict(
        train=dict(classes=("a", "b")), val=dict(classes=("a", "c")), test=dict())))
    with pytest.raises(ConfigValidationError) as err:
        sync_num_classes(cfg)
    text = str(err.value)
    assert "data.train.classes (2: a, b)" in text and "data.val.classes (2: a, c)" in text


def test_wrappers_files_and_the_switch(tmp_path):
    names = tmp_path / "classes.txt"
    names.write_text("cat\ndog\nbird\n")
    cfg = Config(dict(
        model=dict(type="X", bbox_head=dict(num_classes=80), mask_head=dict(num_classes=80),
                   semantic_head=dict(type="FusedSemanticHead", num_classes=183)),
        data=dict(train=dict(type="RepeatDataset", times=3,
                             dataset=dict(classes=str(names))),
                  val=dict(type="ConcatDataset", datasets=[dict(classes=["cat", "dog", "bird"])]))))
    assert config_classes(cfg) == (["cat", "dog", "bird"], "data.train.dataset.classes")
    assert sync_num_classes(cfg) == ("num_classes 80 -> 3 from data.train.dataset.classes "
                                     "(bbox_head, mask_head)")
    assert cfg.model.semantic_head.num_classes == 183
    cfg2 = Config(dict(auto_num_classes=False, model=dict(bbox_head=dict(num_classes=80)),
                       data=dict(train=dict(classes=("a",)))))
    assert sync_num_classes(cfg2) is None and cfg2.model.bbox_head.num_classes == 80
