"""The tiny DETR / Deformable DETR / Sparse R-CNN configs we ship run a training step on a
padded two-image batch and a test step. (MMDetection's R50 configs are built by
test_query_based_layouts.py; one step of each took 6 minutes here, too slow for the suite.)"""

import numpy as np
import pytest
import torch

from detbox.config import Config
from detbox.models.builder import build_detector
from tests.conftest import REPO

FOLDERS = ("detr", "deformable_detr", "sparse_rcnn")
CONFIGS = sorted(p.relative_to(REPO / "configs").as_posix()
                 for folder in FOLDERS for p in (REPO / "configs" / folder).glob("*tiny*.py"))

pytestmark = [pytest.mark.filterwarnings("ignore:The arguments `:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:The argument `dropout`:DeprecationWarning")]


def meta(h, w, pad=(64, 96)):
    return dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(*pad, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)


def test_all_configs_are_listed():
    assert len(CONFIGS) == 4


@pytest.mark.slow
@pytest.mark.parametrize("rel", CONFIGS)
def test_config_trains_and_tests_one_step(rel):
    cfg = Config.fromfile(REPO / "configs" / rel)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = build_detector(cfg.model)
    model.init_weights()
    img = torch.randn(2, 3, 64, 96)
    metas = [meta(64, 96), meta(48, 80)]
    model.train()
    losses = model(img, metas, gt_bboxes=[torch.tensor([[8.0, 8.0, 40.0, 50.0]]),
                                          torch.tensor([[10.0, 4.0, 30.0, 20.0]])],
                   gt_labels=[torch.tensor([1]), torch.tensor([7])])
    loss, log_vars = model._parse_losses(losses)
    assert torch.isfinite(loss) and "loss_cls" in "".join(log_vars)
    loss.backward()
    model.eval()
    with torch.no_grad():
        (result,) = model(img=[img[:1]], img_metas=[[meta(64, 96)]], return_loss=False,
                          rescale=True)
    assert len(result) == 80 and all(r.shape[1] == 5 for r in result)
    assert sum(len(r) for r in result) == cfg.model.test_cfg.get(
        "max_per_img", cfg.model.test_cfg.get("rcnn", {}).get("max_per_img"))
