"""The Swin configs we ship pass validation; the tiny one trains and tests a step on CPU."""

import numpy as np
import pytest
import torch

from detbox.apis.config import load_config
from detbox.config import Config
from detbox.models.builder import build_detector
from tests.conftest import REPO

TINY = "swin/retinanet_swin-t-p4-w7_fpn_tiny_1x_coco.py"
CONFIGS = sorted(p.relative_to(REPO / "configs").as_posix()
                 for p in [*(REPO / "configs" / "swin").glob("*.py"),
                           *(REPO / "configs" / "dyhead").glob("atss_swin*.py")])


@pytest.mark.parametrize("rel", CONFIGS)
def test_config_passes_validation(rel):
    cfg = load_config(REPO / "configs" / rel)
    assert cfg.model.backbone.type == "SwinTransformer"


def test_tiny_config_trains_and_tests_one_step():
    cfg = Config.fromfile(REPO / "configs" / TINY)
    model = build_detector(cfg.model)
    model.init_weights()
    torch.manual_seed(0)
    size = (72, 100)  # not a multiple of the 7x7 windows at any stage
    img = torch.randn(2, 3, *size)
    meta = dict(img_shape=(*size, 3), ori_shape=(*size, 3), pad_shape=(*size, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)
    boxes = [torch.tensor([[8.0, 8.0, 40.0, 50.0]]), torch.tensor([[20.0, 4.0, 90.0, 60.0]])]
    model.train()
    losses = model(img, [meta, dict(meta)], gt_bboxes=boxes,
                   gt_labels=[torch.tensor([1]), torch.tensor([3])])
    loss, _ = model._parse_losses(losses)
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    grad = model.backbone.stages[0].blocks[0].attn.w_msa.relative_position_bias_table.grad
    assert grad is not None and bool(grad.abs().sum() > 0)
    model.eval()
    with torch.no_grad():
        results = model(img=[img], img_metas=[[meta, dict(meta)]], return_loss=False,
                        rescale=True)
    assert len(results) == 2 and all(len(r) == 80 for r in results)
