"""BaseRunner services: resume (exact continuation), load_checkpoint, argument checks."""

import pytest
import torch

from detbox.engine import EpochBasedRunner, build_optimizer, build_runner, set_random_seed
from detbox.engine.hooks import Hook
from tests.engine.engine_toys import LOGGER, Recorder, ToyModel, make_runner, toy_batches


class FakeEvalHook(Hook):
    """Writes a metric per epoch and keeps the best score in hook_msgs, like EvalHook."""

    def __init__(self, scores):
        self.scores = scores

    def after_train_epoch(self, runner):
        score = self.scores[runner.epoch]
        runner.log_buffer.output["bbox_mAP"] = score
        runner.log_buffer.ready = True
        msgs = runner.meta.setdefault("hook_msgs", {})
        msgs["best_score"] = max(msgs.get("best_score", 0.0), score)


class StopAfter(Hook):
    def __init__(self, epochs):
        self.epochs = epochs

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epochs:
            runner.request_stop("test stop")


def training_run(work_dir, stop_after=None, resume_from=None):
    set_random_seed(0)
    model = ToyModel()
    optimizer = build_optimizer(model, dict(type="SGD", lr=0.1, momentum=0.9, weight_decay=1e-4))
    runner = build_runner(dict(type="EpochBasedRunner", max_epochs=4), dict(
        model=model, optimizer=optimizer, work_dir=str(work_dir), logger=LOGGER,
        meta=dict(seed=0, exp_name="toy")))
    runner.register_training_hooks(
        dict(policy="step", step=[2], warmup="linear", warmup_iters=3, warmup_ratio=0.1),
        dict(grad_clip=dict(max_norm=1.0)), dict(interval=1), None,
        custom_hooks_config=[
            dict(type="ExpMomentumEMAHook", momentum=0.01, total_iter=5, priority=49),
            dict(type="EarlyStoppingHook", monitor="bbox_mAP", patience=10, priority=80)])
    runner.register_hook(FakeEvalHook([0.1, 0.3, 0.2, 0.25]), "LOW")
    lrs = Recorder("before_train_iter", lambda r: r.current_lr()[0])
    runner.register_hook(lrs, "LOWEST")
    if stop_after:
        runner.register_hook(StopAfter(stop_after))
    if resume_from:
        runner.resume(str(resume_from))
    runner.run([toy_batches(3)], [("train", 1)])
    return runner, lrs.values


def test_resume_continues_exactly(tmp_path):
    full, full_lrs = training_run(tmp_path / "full")
    first, _ = training_run(tmp_path / "first", stop_after=2)
    assert first.epoch == 2 and first.iter == 6
    ckpt = torch.load(tmp_path / "first" / "epoch_2.pth", weights_only=False)
    assert "ema_fc_weight" in ckpt["state_dict"] and "ema_bn_running_mean" in ckpt["state_dict"]

    resumed, resumed_lrs = training_run(tmp_path / "second",
                                        resume_from=tmp_path / "first" / "epoch_2.pth")
    assert resumed.epoch == 4 and resumed.iter == 12
    assert resumed_lrs == pytest.approx(full_lrs[6:])  # the schedule continues (0.01 after step)
    assert resumed_lrs == pytest.approx([0.01] * 6)
    full_state, resumed_state = full.model.state_dict(), resumed.model.state_dict()
    assert list(full_state) == list(resumed_state)
    for key, value in full_state.items():
        assert torch.equal(value, resumed_state[key]), key  # weights, BN stats, EMA buffers
    for a, b in zip(full.optimizer.state_dict()["state"].values(),
                    resumed.optimizer.state_dict()["state"].values()):
        assert torch.equal(a["momentum_buffer"], b["momentum_buffer"])


def test_resume_restores_meta(tmp_path):
    training_run(tmp_path / "first", stop_after=2)
    path = tmp_path / "first" / "epoch_2.pth"
    saved = torch.load(path, weights_only=False)["meta"]
    runner = make_runner(max_epochs=4, meta=dict(seed=7, exp_name="new"))
    runner.resume(str(path))
    assert (runner.epoch, runner.iter) == (2, 6)
    assert runner.meta["hook_msgs"] == saved["hook_msgs"]
    assert runner.meta["hook_msgs"]["best_score"] == 0.1  # epoch 2's eval ran after its save
    assert runner.meta["hook_msgs"]["early_stopping"]["best"] == 0.1
    assert runner.meta["seed"] == 7 and runner.meta["exp_name"] == "new"  # this run's own
    assert set(runner.resumed_extra_state) >= {"ema_fc_weight", "ema_conv_bias"}
    groups = runner.optimizer.param_groups
    assert groups[0]["initial_lr"] == 0.1 and groups[0]["lr"] == pytest.approx(0.1)


def test_resume_without_optimizer_and_gpu_rescale(tmp_path):
    model = ToyModel()
    torch.save(dict(meta=dict(epoch=3, iter=30, config="gpu_ids = range(0, 2)\n"),
                    state_dict=model.state_dict()), tmp_path / "ckpt.pth")
    runner = make_runner(max_epochs=4)
    runner.resume(str(tmp_path / "ckpt.pth"), resume_optimizer=False)
    assert runner.epoch == 3 and runner.iter == 60  # 2 GPUs then, 1 process now
    assert torch.equal(runner.model.fc.weight, model.fc.weight)


def test_load_checkpoint_is_weights_only_and_weights_file_cannot_resume(tmp_path):
    model = ToyModel()
    torch.save(dict(state_dict={f"module.{k}": v for k, v in model.state_dict().items()}),
               tmp_path / "weights.pth")
    runner = make_runner(max_epochs=2)
    runner.load_checkpoint(str(tmp_path / "weights.pth"))
    assert torch.equal(runner.model.conv.weight, model.conv.weight) and runner.epoch == 0
    with pytest.raises(KeyError, match="weights file, not a training checkpoint"):
        runner.resume(str(tmp_path / "weights.pth"))


def test_argument_checks():
    with pytest.raises(TypeError, match="has no train_step"):
        EpochBasedRunner(torch.nn.Linear(1, 1), logger=LOGGER)
    with pytest.raises(ValueError, match="only one of max_epochs and max_iters"):
        make_runner(max_epochs=1, max_iters=1)
    with pytest.raises(TypeError, match="optimizer must be"):
        EpochBasedRunner(ToyModel(), optimizer="SGD", logger=LOGGER)
    runner = make_runner(max_epochs=1)
    with pytest.raises(ValueError, match="2 phases but 1 data loaders"):
        runner.run([toy_batches(1)], [("train", 1), ("val", 1)])
    with pytest.raises(ValueError, match="workflow mode must be 'train' or 'val'"):
        runner.run([toy_batches(1)], [("test", 1)])
    with pytest.raises(ValueError, match="has no 'train' phase"):
        runner.run([toy_batches(1)], [("val", 1)])
    with pytest.raises(ValueError, match="max_epochs must be given"):
        make_runner().run([toy_batches(1)], [("train", 1)])


def test_train_step_must_return_a_dict():
    class Bad(ToyModel):
        def train_step(self, data, optimizer=None):
            return 1.0

    with pytest.raises(TypeError, match=r"model.train_step\(\) must return a dict"):
        make_runner(model=Bad(), max_epochs=1).run([toy_batches(1)], [("train", 1)])
