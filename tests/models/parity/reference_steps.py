"""The training-step check the one-stage style goldens share (dense2, SABL, GA): the recorded
batch of images 0 and 1 through the config's test pipeline, the given ground truths, one
``forward_train`` with the calibrated weights, every loss term against MMDetection's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from detbox.config import Config
from detbox.models.builder import build_detector
from tests.conftest import DATA

IMAGES = sorted((DATA / "mmdet_reference" / "images").glob("img*.png"))


def train_batch(cfg, gt):
    """Images 0 and 1 through the test pipeline, zero-padded to one size (as recorded)."""
    from detbox.apis.inference import _prepare, _test_pipeline

    pipeline = _test_pipeline(cfg, False)
    samples = [_prepare(str(p), pipeline) for p in IMAGES[:2]]
    imgs = [s["img"][0] for s in samples]
    metas = [s["img_metas"][0] for s in samples]
    h, w = max(i.shape[1] for i in imgs), max(i.shape[2] for i in imgs)
    batch = torch.zeros(len(imgs), 3, h, w)
    for k, im in enumerate(imgs):
        batch[k, :, :im.shape[1], :im.shape[2]] = im
    return (batch, metas, [torch.tensor(g["bboxes"]) for g in gt],
            [torch.tensor(g["labels"]) for g in gt])


def assert_training_step_equals_reference(ref_dir: Path, name: str, config: str,
                                          state_dict: dict) -> None:
    """``reference_<name>.json``'s recorded losses (within 1e-4 relative) from the model of
    ``configs/<config>`` under ``ref_dir`` with ``state_dict``; the graph backpropagates."""
    summary = json.loads((ref_dir / f"reference_{name}.json").read_text())["train"]
    cfg = Config.fromfile(ref_dir / "configs" / config)
    model = build_detector(cfg.model)  # with train_cfg
    model.load_state_dict(state_dict, strict=True)
    model.train()
    img, metas, gt_bboxes, gt_labels = train_batch(cfg, summary["gt"])
    assert list(img.shape) == summary["batch_shape"]
    assert [list(m["img_shape"]) for m in metas] == summary["img_shapes"]
    losses = model.forward_train(img, metas, gt_bboxes, gt_labels)
    total, _ = model._parse_losses(losses)
    ours = {k: float(sum(t.detach().double().sum() for t in (v if isinstance(v, list) else [v])))
            for k, v in losses.items()}
    ours["loss"] = float(total.detach())
    assert set(ours) == set(summary["losses"])
    for key, expected in summary["losses"].items():
        assert ours[key] == pytest.approx(expected, rel=1e-4, abs=1e-7), key
    assert ours["loss"] > 0
    total.backward()  # the graph is complete
