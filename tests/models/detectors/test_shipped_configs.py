"""Every two-stage/RPN model config we ship builds and runs a training and a test step."""

import numpy as np
import pytest
import torch

from detbox.config import Config
from detbox.models.builder import build_detector
from tests.conftest import REPO

FOLDERS = ("faster_rcnn", "cascade_rcnn", "rpn")
# cascade_rcnn/cascade_mask_*: mask models are built in test_mask_layouts.py and trained in
# tests/models/roi_heads/test_mask_heads.py (tiny variants; R50 ones take too long here)
CONFIGS = sorted(p.relative_to(REPO / "configs").as_posix()
                 for folder in FOLDERS for p in (REPO / "configs" / folder).glob("*.py")
                 if "mask" not in p.name)


def tiny_batch(size=64):
    torch.manual_seed(0)
    img = torch.randn(1, 3, size, size)
    meta = dict(img_shape=(size, size, 3), ori_shape=(size, size, 3), pad_shape=(size, size, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)
    return img, [meta], [torch.tensor([[8.0, 8.0, 40.0, 50.0]])], [torch.tensor([1])]


def test_all_configs_are_listed():
    assert len(CONFIGS) >= 30


@pytest.mark.slow
@pytest.mark.parametrize("rel", CONFIGS)
def test_config_trains_and_tests_one_step(rel):
    cfg = Config.fromfile(REPO / "configs" / rel)
    cfg.model.backbone.init_cfg = None  # no ImageNet file is needed to build
    model = build_detector(cfg.model)
    img, metas, gt_bboxes, gt_labels = tiny_batch()
    model.train()
    if cfg.model.type == "RPN":
        losses = model(img, metas, gt_bboxes=gt_bboxes)
    else:
        losses = model(img, metas, gt_bboxes=gt_bboxes, gt_labels=gt_labels)
    loss, _ = model._parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    model.eval()
    with torch.no_grad():
        (result,) = model(img=[img], img_metas=[metas], return_loss=False, rescale=True)
    if cfg.model.type == "RPN":
        assert result.shape[1] == 5
    else:
        assert len(result) == 80 and all(r.shape[1] == 5 for r in result)
