"""User code written for MMDetection 2.x runs on detbox with only the switch added.

- an inference notebook (``Config.fromfile`` ... ``single_gpu_test`` ... a CSV), run with
  ``python -m detbox.compat``, gives exactly ``tools/test.py``'s detections;
- a neck and a pipeline transform written the MMDetection way (``from ..builder import
  NECKS``, ``from mmcv.cnn import ConvModule, xavier_init``, ``auto_fp16``,
  ``from mmdet.datasets.builder import PIPELINES``) load through ``custom_imports`` and,
  dropped into a copy of the ``detbox`` package as the seed does with ``mmdet/``, through the
  package's ``__init__.py``; both train through ``tools/train.py``.
"""

import csv
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run, tool_env
from tests.tools.personal_configs import make_config_tree
from tests.tools.shapes_fixture import make_shapes

FASTER = "configs/_me_/faster_rcnn_r18_fpn_tiny_shapes.py"


NOTEBOOK_BODY = '''\
# An MMDetection 2.x inference notebook, unchanged.
import csv
import pickle
import sys

import mmcv
from mmcv import Config
from mmcv.parallel import MMDataParallel
from mmcv.runner import load_checkpoint
from mmdet.apis import single_gpu_test
from mmdet.datasets import build_dataloader, build_dataset, replace_ImageToTensor
from mmdet.models import build_detector

cfg = Config.fromfile(sys.argv[1])
cfg.data.test.test_mode = True
cfg.data.test.pipeline = replace_ImageToTensor(cfg.data.test.pipeline)
cfg.model.train_cfg = None
dataset = build_dataset(cfg.data.test)
data_loader = build_dataloader(dataset, samples_per_gpu=1, workers_per_gpu=0, dist=False,
                               shuffle=False)
model = build_detector(cfg.model, test_cfg=cfg.get('test_cfg'))
checkpoint = load_checkpoint(model, sys.argv[2], map_location='cpu')
model.CLASSES = dataset.CLASSES
model = MMDataParallel(model, device_ids=[0])
output = single_gpu_test(model, data_loader, show_score_thr=0.05)

with open(sys.argv[3], 'w', newline='') as fh:
    writer = csv.writer(fh)
    writer.writerow(['image_id', 'class', 'score', 'x1', 'y1', 'x2', 'y2'])
    for info, per_class in zip(dataset.data_infos, output):
        for label, dets in enumerate(per_class):
            for x1, y1, x2, y2, score in dets:
                writer.writerow([info['id'], dataset.CLASSES[label], score, x1, y1, x2, y2])
with open(sys.argv[4], 'wb') as fh:
    pickle.dump(output, fh)
'''

USER_NECK = '''\
# A neck written for MMDetection 2.x (the seed drops such a file into mmdet/models/necks/).
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, xavier_init
from mmcv.runner import BaseModule, auto_fp16

from {builder} import NECKS


@NECKS.register_module()
class MyTinyFPN(BaseModule):
    def __init__(self, in_channels, out_channels, num_outs, init_cfg=None):
        super().__init__(init_cfg)
        self.lateral = nn.ModuleList(
            ConvModule(c, out_channels, 1, inplace=False) for c in in_channels)
        self.num_outs = num_outs
        self.fp16_enabled = False

    def init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                xavier_init(m, distribution='uniform')

    @auto_fp16()
    def forward(self, inputs):
        outs = [lat(x) for lat, x in zip(self.lateral, inputs)]
        for i in range(len(outs) - 1, 0, -1):
            outs[i - 1] = outs[i - 1] + F.interpolate(outs[i], size=outs[i - 1].shape[2:])
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
'''

USER_TRANSFORM = '''\
# A pipeline transform written for MMDetection 2.x.
from mmdet.datasets.builder import PIPELINES


@PIPELINES.register_module()
class CountCalls:
    """Passes results through, counting images (written to a file so the test can see it)."""

    def __init__(self, out):
        self.out = out

    def __call__(self, results):
        with open(self.out, 'a') as fh:
            fh.write(results['ori_filename'] + '\\n')
        return results
'''

CHILD = '''\
_base_ = './faster_rcnn_r18_fpn_tiny_shapes.py'
{imports}
model = dict(neck=dict(_delete_=True, type='MyTinyFPN', in_channels=[64, 128, 256, 512],
                       out_channels=64, num_outs=5))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CountCalls', out='{calls}'),
    dict(type='Resize', img_scale=(96, 96), keep_ratio=True),
    dict(type='RandomFlip', flip_ratio=0.0),
    dict(type='Normalize', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
         to_rgb=True),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels']),
]
data = dict(train=dict(pipeline=train_pipeline))
runner = dict(max_epochs=1)
evaluation = dict(interval=100)
checkpoint_config = dict(interval=100)
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("mmdet_project")
    make_shapes(root / "data", num_train=8, num_val=4)
    make_config_tree(root, root / "data", epochs=1)
    run("train.py", FASTER, "--seed", "0", "--work-dir", "work", cwd=root)
    return root


@pytest.mark.slow
def test_inference_notebook_equals_test_tool(project):
    root = project
    assert "detbox" not in NOTEBOOK_BODY  # plain MMDetection code; the switch is `-m detbox.compat`
    (root / "notebook.py").write_text(NOTEBOOK_BODY)
    ckpt = root / "work" / "latest.pth"
    # the notebook builds the model as MMDetection does (NCHW); the tool's CPU default is
    # channels-last, which moves scores by float rounding, so the tool runs NCHW here too
    run("test.py", FASTER, str(ckpt), "--out", "tool.pkl", "--cfg-options",
        "channels_last=False", cwd=root)
    result = subprocess.run(
        [sys.executable, "-m", "detbox.compat", "notebook.py", FASTER, str(ckpt), "out.csv",
         "notebook.pkl"], cwd=root, env=tool_env(), capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    tool = pickle.loads((root / "tool.pkl").read_bytes())
    ours = pickle.loads((root / "notebook.pkl").read_bytes())
    assert len(tool) == len(ours) == 4
    total = 0
    for a, b in zip(tool, ours):
        assert len(a) == len(b) == 3
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
            total += len(x)
    rows = list(csv.reader((root / "out.csv").open()))
    assert rows[0] == ["image_id", "class", "score", "x1", "y1", "x2", "y2"]
    assert len(rows) - 1 == total > 0


def _check_trained(root, work, calls):
    logs = json_logs(root / work)
    assert logs, f"no log in {root / work}"
    train = log_entries(logs[-1], "train")
    assert train and all(np.isfinite(e["loss"]) for e in train)
    seen = (root / calls).read_text().split()
    assert len(seen) == 8  # one epoch over the 8 training images went through CountCalls


@pytest.mark.slow
def test_user_modules_via_custom_imports(project):
    root = project
    pkg = root / "my_modules"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "my_neck.py").write_text(USER_NECK.format(builder="mmdet.models.builder"))
    (pkg / "my_transform.py").write_text(USER_TRANSFORM)
    imports = ("custom_imports = dict(imports=['my_modules.my_neck', "
               "'my_modules.my_transform'], allow_failed_imports=False)")
    (root / "configs" / "_me_" / "mine.py").write_text(
        CHILD.format(imports=imports, calls=root / "calls_a.txt"))
    run("train.py", "configs/_me_/mine.py", "--work-dir", "work_a", cwd=root)
    _check_trained(root, "work_a", "calls_a.txt")


@pytest.mark.slow
def test_user_modules_dropped_into_the_package(project, tmp_path):
    """The seed's way: the file goes into the package's necks/ folder and its __init__.py."""
    root = project
    pkg_root = tmp_path / "src"
    shutil.copytree(REPO / "detbox", pkg_root / "detbox",
                    ignore=shutil.ignore_patterns("__pycache__"))
    necks = pkg_root / "detbox" / "models" / "necks"
    (necks / "my_tiny_fpn.py").write_text(USER_NECK.format(builder="..builder"))
    with (necks / "__init__.py").open("a") as fh:
        fh.write("from .my_tiny_fpn import MyTinyFPN  # noqa: E402,F401\n")
    transforms = pkg_root / "detbox" / "datasets" / "transforms"
    (transforms / "count_calls.py").write_text(USER_TRANSFORM)
    with (transforms / "__init__.py").open("a") as fh:
        fh.write("from .count_calls import CountCalls  # noqa: E402,F401\n")
    (root / "configs" / "_me_" / "mine_in_package.py").write_text(
        CHILD.format(imports="", calls=root / "calls_b.txt"))
    env = tool_env()
    env["PYTHONPATH"] = f"{pkg_root}:{REPO}"
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "train.py"), "configs/_me_/mine_in_package.py",
         "--work-dir", "work_b"], cwd=root, env=env, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    _check_trained(root, "work_b", "calls_b.txt")


def test_registering_an_existing_name_says_how_to_override():
    from detbox.registry import MODELS

    with pytest.raises(KeyError, match=r"already registered in MODELS.*force=True.*another "
                                        r"name"):
        MODELS.register_module(name="BIFPN", module=type("BIFPN", (), {}))
