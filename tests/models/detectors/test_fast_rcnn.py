"""Fast R-CNN on proposals read from a ``.pkl`` file (``proposal_file`` + ``LoadProposals``), as
in MMDetection's ``configs/fast_rcnn/`` (our copy, made tiny): a training step and a test
step through the dataset, the pipeline and the collate function."""

import pickle

import numpy as np
import pytest
import torch

from detbox.config import Config
from detbox.datasets import build_dataset
from detbox.datasets.collate import collate
from detbox.models.builder import build_detector
from tests.conftest import REPO
from tests.tools.shapes_fixture import CLASSES, make_shapes


def _resize(pipeline):
    for step in pipeline:
        if step["type"] in ("Resize", "MultiScaleFlipAug") and "img_scale" in step:
            step["img_scale"] = (96, 96)
        if "transforms" in step:
            _resize(step["transforms"])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = make_shapes(tmp_path_factory.mktemp("fast_rcnn") / "data", num_train=2, num_val=2)
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        # per image: 20 random boxes with scores, [n, 5] float32, as MMDetection's RPN writes
        xy = rng.uniform(0, 60, size=(2, 20, 2))
        wh = rng.uniform(10, 36, size=(2, 20, 2))
        props = [np.concatenate([xy[i], xy[i] + wh[i], rng.uniform(0, 1, (20, 1))], 1)
                 .astype(np.float32) for i in range(2)]
        (root / f"{split}_proposals.pkl").write_bytes(pickle.dumps(props))
    cfg = Config.fromfile(REPO / "configs" / "fast_rcnn" / "fast_rcnn_r50_fpn_1x_coco.py")
    cfg.model.backbone.update(depth=18, init_cfg=None)
    cfg.model.neck.update(in_channels=[64, 128, 256, 512], out_channels=64)
    cfg.model.roi_head.bbox_roi_extractor.out_channels = 64
    cfg.model.roi_head.bbox_head.update(in_channels=64, fc_out_channels=64,
                                        num_classes=len(CLASSES))
    for split, part in (("train", cfg.data.train), ("val", cfg.data.test)):
        part.update(ann_file=str(root / f"{split}0.json"), img_prefix=str(root / "images"),
                    proposal_file=str(root / f"{split}_proposals.pkl"), classes=CLASSES)
        _resize(part.pipeline)
    torch.manual_seed(0)
    return cfg, build_detector(cfg.model)


def test_training_step_on_loaded_proposals(tiny):
    cfg, model = tiny
    dataset = build_dataset(cfg.data.train)
    sample = dataset[0]
    assert sample["proposals"].shape[1] == 4  # LoadProposals keeps the boxes (max 2000)
    batch = collate([dataset[0], dataset[1]])
    assert len(batch["proposals"]) == 2
    model.train()
    losses = model(**batch)
    assert {"loss_cls", "loss_bbox", "acc"} <= set(losses)
    loss, _ = model._parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()


def test_test_step_on_loaded_proposals(tiny):
    cfg, model = tiny
    dataset = build_dataset(cfg.data.test)
    batch = collate([dataset[0], dataset[1]])
    assert len(batch["proposals"]) == 1 and len(batch["proposals"][0]) == 2  # [aug][image]
    assert batch["proposals"][0][0].shape == (20, 4)
    model.eval()
    with torch.no_grad():
        results = model(return_loss=False, rescale=True, **batch)
    assert len(results) == 2 and all(len(r) == len(CLASSES) for r in results)
    assert all(r.shape[1] == 5 for res in results for r in res)
    with pytest.raises(ValueError, match="FastRCNN needs proposals"):
        model(return_loss=False, img=batch["img"], img_metas=batch["img_metas"])
