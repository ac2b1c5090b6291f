"""``detbox.apis.train_detector`` in process: which hooks, in which order, with which settings
(MMDetection 2.28's ``train_detector``), without training (``max_epochs=0``)."""

from __future__ import annotations

import logging

import pytest
import torch

from detbox.apis import auto_scale_lr, load_config, train_detector
from detbox.apis.compat import compat_cfg
from detbox.config import Config
from detbox.datasets import build_dataset
from detbox.models.builder import build_detector
from tests.tools.personal_configs import make_config_tree
from tests.tools.shapes_fixture import make_shapes


@pytest.fixture(autouse=True)
def _one_thread_and_clean_logger():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    logger = logging.getLogger("detbox")
    handlers, level = list(logger.handlers), logger.level
    yield
    torch.set_num_threads(threads)
    for handler in logger.handlers[:]:
        if handler not in handlers:
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(level)


@pytest.fixture(scope="module")
def config_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("train_detector")
    make_shapes(root / "data", num_train=2, num_val=1)
    return make_config_tree(root, root / "data") / "faster_rcnn_r18_fpn_tiny_shapes.py"


def _train(cfg: Config, tmp_path, validate: bool = True):
    cfg.work_dir = str(tmp_path / "work")
    model = build_detector(cfg.model)
    dataset = build_dataset(cfg.data.train)
    model.CLASSES = dataset.CLASSES
    return train_detector(model, dataset, cfg, validate=validate)


def _hooks(runner) -> list[tuple[str, int]]:
    return [(type(h).__name__, h.priority) for h in runner.hooks]


def test_hooks_follow_mmdet_order_with_eval_at_low_and_early_stopping_at_80(config_path,
                                                                              tmp_path):
    cfg = load_config(config_path, {"runner.max_epochs": 0})
    cfg.early_stopping = dict(monitor="bbox_mAP_50", patience=2)
    runner = _train(cfg, tmp_path)
    assert _hooks(runner) == [
        ("StepLrUpdaterHook", 10), ("OptimizerHook", 40), ("CheckpointHook", 50),
        ("NumClassCheckHook", 50), ("IterTimerHook", 70), ("EvalHook", 70),
        ("EarlyStoppingHook", 80), ("TextLoggerHook", 90), ("ProgressBarHook", 90)]
    eval_hook = runner.hooks[5]
    assert eval_hook.by_epoch is True and eval_hook.interval == 1
    assert eval_hook.save_best == "bbox_mAP_50" and eval_hook.rule == "greater"
    assert eval_hook.eval_kwargs == dict(metric="bbox", classwise=True)
    assert eval_hook.dataloader.batch_size == 1 and len(eval_hook.dataloader.dataset) == 1
    stopper = runner.hooks[6]
    assert (stopper.monitor, stopper.patience, stopper.by_epoch) == ("bbox_mAP_50", 2, True)
    assert type(runner).__name__ == "EpochBasedRunner"


def test_iteration_based_runner_evaluates_by_iteration(config_path, tmp_path):
    cfg = load_config(config_path)
    cfg.runner = dict(type="IterBasedRunner", max_iters=0)
    cfg.log_config.by_epoch = False
    cfg.checkpoint_config.by_epoch = False
    cfg.lr_config.by_epoch = False
    cfg.early_stopping = dict(monitor="bbox_mAP")
    runner = _train(cfg, tmp_path)
    hooks = {type(h).__name__: h for h in runner.hooks}
    assert hooks["EvalHook"].by_epoch is False
    assert hooks["EarlyStoppingHook"].by_epoch is False
    assert type(runner).__name__ == "IterBasedRunner"


def test_no_validate_has_no_eval_hook_and_warns_about_early_stopping(config_path, tmp_path,
                                                                     caplog):
    cfg = load_config(config_path, {"runner.max_epochs": 0})
    cfg.early_stopping = dict(monitor="bbox_mAP")
    with caplog.at_level(logging.WARNING, logger="detbox"):
        runner = _train(cfg, tmp_path, validate=False)
    assert "EvalHook" not in [name for name, _ in _hooks(runner)]
    assert "early_stopping is set but there is no evaluation" in caplog.text


def test_legacy_total_epochs_makes_an_epoch_based_runner(config_path, tmp_path):
    cfg = load_config(config_path)
    del cfg["runner"]
    cfg.total_epochs = 0
    runner = _train(cfg, tmp_path, validate=False)
    assert type(runner).__name__ == "EpochBasedRunner" and runner.max_epochs == 0


def test_train_dataloader_overrides_and_the_seed_reach_the_loader(config_path, tmp_path):
    cfg = load_config(config_path, {"runner.max_epochs": 1, "log_config.hooks": []})
    cfg.data.train_dataloader = dict(samples_per_gpu=1)
    del cfg.data["samples_per_gpu"]
    cfg.seed = 3
    runner = _train(cfg, tmp_path, validate=False)
    assert runner.iter == 2  # two images, one per batch
    assert runner.data_loader.batch_size == 1


def test_auto_scale_lr_scales_by_total_batch_over_base():
    cfg = compat_cfg(Config(dict(
        optimizer=dict(type="SGD", lr=0.02), gpu_ids=[0], runner=dict(type="EpochBasedRunner"),
        auto_scale_lr=dict(enable=True, base_batch_size=16),
        data=dict(samples_per_gpu=4, train={}, val={}, test={}))))
    auto_scale_lr(cfg, distributed=False, logger=logging.getLogger("test"))
    assert cfg.optimizer.lr == pytest.approx(0.02 * 4 / 16)
    cfg.auto_scale_lr.enable = False
    auto_scale_lr(cfg, distributed=False, logger=logging.getLogger("test"))
    assert cfg.optimizer.lr == pytest.approx(0.005)  # unchanged when disabled


def test_compat_refuses_a_batch_size_set_twice():
    cfg = Config(dict(runner=dict(type="EpochBasedRunner"), data=dict(
        samples_per_gpu=2, train_dataloader=dict(samples_per_gpu=4), train={}, val={},
        test={})))
    with pytest.raises(ValueError, match="samples_per_gpu is set in both"):
        compat_cfg(cfg)
    with pytest.raises(ValueError, match="total_epochs=3 disagrees"):
        compat_cfg(Config(dict(total_epochs=3, runner=dict(type="EpochBasedRunner",
                                                          max_epochs=12))))
