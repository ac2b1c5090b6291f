"""Write small checkpoints in MMDetection v2's layout with numpy 1 and torch 2.0 (the side venv).

    /tmp/mmfull/bin/python tests/data/checkpoints/make_mmdet_v2_style.py

The files are what ``mmcv.runner.save_checkpoint`` of mmcv 1.7 writes for MMDetection 2.28
(``meta`` with versions, the config text, ``CLASSES``, epoch/iter and ``hook_msgs`` whose
``best_score`` is a ``numpy.float64``; ``state_dict``; ``optimizer``), built by hand from random
weights so that they stay tiny. Both of torch's formats: the zip one (torch >= 1.6) and the
legacy one that MMDetection's 2020 zoo files use. Pickled by numpy 1, they reference
``numpy.core.multiarray.scalar`` (numpy 2 names it ``numpy._core``).
"""

import os
from collections import OrderedDict

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG_TEXT = "model = dict(type='FasterRCNN')\ndata = dict(samples_per_gpu=2)\n"


def main() -> None:
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3)
    state_dict = OrderedDict((f"backbone.conv1.{k}", v) for k, v in conv.state_dict().items())
    optimizer = torch.optim.SGD(conv.parameters(), lr=0.02, momentum=0.9, weight_decay=1e-4)
    conv(torch.randn(1, 3, 5, 5)).sum().backward()
    optimizer.step()
    meta = dict(
        env_info="sys.platform: linux\nPyTorch: 1.5.1",
        config=CONFIG_TEXT, seed=np.int64(0), exp_name="faster_rcnn_r50_fpn_1x_coco.py",
        mmdet_version="2.28.2", CLASSES=("person", "bicycle", "car"), mmcv_version="1.7.2",
        time="Thu Jan 30 03:15:49 2020", epoch=12, iter=87960,
        hook_msgs=dict(last_ckpt="work_dirs/x/epoch_12.pth", best_score=np.float64(0.374),
                       best_ckpt="work_dirs/x/best_bbox_mAP_epoch_12.pth",
                       scores=np.array([0.1, 0.2], dtype=np.float32)))
    ckpt = dict(meta=meta, state_dict=state_dict, optimizer=optimizer.state_dict())
    torch.save(ckpt, os.path.join(HERE, "mmdet_v2_style_zip.pth"))
    torch.save(ckpt, os.path.join(HERE, "mmdet_v2_style_legacy.pth"),
               _use_new_zipfile_serialization=False)


if __name__ == "__main__":
    main()
