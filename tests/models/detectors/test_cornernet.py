"""The seed's CornerNet config prints, reloads and builds; ``CornerNet.aug_test`` merges flips."""

import subprocess
import sys

import numpy as np
import torch

from detbox.config import Config
from detbox.models.builder import build_model
from tests.conftest import REPO

SEED = "configs/cornernet/cornernet_hourglass104_mstest_10x5_210e_coco.py"


def test_seed_config_prints_and_reloads(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "tools/misc/print_config.py"), SEED],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "printed.py"
    out.write_text(result.stdout.split("\n", 1)[1])
    cfg = Config.fromfile(out)
    assert cfg == Config.fromfile(REPO / SEED)
    assert cfg.model.type == "CornerNet" and cfg.optimizer.type == "Adam"


def tiny_model():
    cfg = Config.fromfile(REPO / SEED).model
    cfg.backbone.update(downsample_times=2, stage_channels=[8, 8, 8], stage_blocks=[1, 1, 1],
                        feat_channel=8)
    cfg.bbox_head.update(num_classes=2, in_channels=8)
    cfg.test_cfg.corner_topk = 32
    model = build_model(cfg)
    model.init_weights()
    return model.eval()


def test_aug_test_merges_a_flipped_pair():
    torch.manual_seed(0)
    model = tiny_model()
    img = torch.randn(1, 3, 32, 32)
    metas = [[dict(img_shape=(32, 32, 3), pad_shape=(32, 32, 3), ori_shape=(32, 32, 3),
                   scale_factor=np.ones(4, np.float32), flip=flip, flip_direction="horizontal",
                   border=np.array([0, 32, 0, 32], np.float32))] for flip in (False, True)]
    with torch.no_grad():
        result = model.forward_test([img, img.flip(-1)], metas)
    assert len(result) == 1 and len(result[0]) == 2
    dets = np.concatenate(result[0])
    assert dets.shape[1] == 5 and len(dets) <= 100
