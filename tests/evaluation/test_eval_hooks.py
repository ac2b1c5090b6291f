import logging
import os

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from detbox.engine.hooks.hook import Hook
from detbox.engine.hooks.logger_base import LoggerHook
from detbox.evaluation import DistEvalHook, EvalHook
from detbox.registry import HOOKS


class ScoreDataset(Dataset):
    """Three samples; ``evaluate`` returns the next score of ``scores`` (``bbox_mAP`` first)."""

    def __init__(self, scores):
        self.scores = list(scores)
        self.calls = []

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return i

    def evaluate(self, results, logger=None, **kwargs):
        self.calls.append((list(results), kwargs))
        s = self.scores[len(self.calls) - 1]
        return {"bbox_mAP": s, "bbox_mAP_50": s + 0.1, "loss_like": 1 - s}


class LogBuffer:
    def __init__(self):
        self.output, self.ready = {}, False

    def clear(self):
        self.output.clear()
        self.ready = False


class FakeRunner:
    """The runner surface the eval hooks use; ``save_checkpoint`` writes the meta it carries."""

    def __init__(self, work_dir, meta=None):
        self.model = torch.nn.Linear(1, 1)
        self.epoch, self.iter = 0, 0
        self.work_dir = str(work_dir)
        self.meta = meta
        self.logger = logging.getLogger("fake_runner")
        self.log_buffer = LogBuffer()
        self.hooks = []
        self.saved = []

    def save_checkpoint(self, out_dir, filename_tmpl="epoch_{}.pth", save_optimizer=True,
                        meta=None, create_symlink=True):
        path = os.path.join(out_dir, filename_tmpl.format(self.epoch + 1))
        torch.save({"meta": dict(self.meta, hook_msgs=dict(self.meta["hook_msgs"]))}, path)
        self.saved.append((os.path.basename(path), create_symlink))


def fake_test(model, dataloader):
    return [f"r{i}" for i in range(len(dataloader.dataset))]


def make_hook(scores, **kwargs):
    kwargs.setdefault("test_fn", fake_test)
    return EvalHook(DataLoader(ScoreDataset(scores)), **kwargs)


def train_epochs(hook, runner, epochs):
    """Drive the hook like an epoch-based runner; return the 1-based epochs evaluated."""
    evaluated = []
    for epoch in epochs:
        runner.epoch = epoch
        n = len(hook.dataloader.dataset.calls)
        hook.before_train_epoch(runner)
        if len(hook.dataloader.dataset.calls) > n:
            evaluated.append(f"before {epoch}")
        n = len(hook.dataloader.dataset.calls)
        hook.after_train_epoch(runner)
        if len(hook.dataloader.dataset.calls) > n:
            evaluated.append(epoch + 1)
    return evaluated


def best_files(path):
    return sorted(f for f in os.listdir(path) if f.startswith("best_"))


@pytest.mark.parametrize("key, rule", [("bbox_mAP", "greater"), ("AR@100", "greater"),
                                       ("loss", "less"), ("val_loss", "less"),
                                       ("top1_ACC", "greater")])
def test_rule_inferred_from_key(key, rule):
    assert make_hook([], save_best=key).rule == rule


def test_rule_errors_and_explicit_rule():
    with pytest.raises(ValueError, match="Cannot infer the rule for key foo"):
        make_hook([], save_best="foo")
    with pytest.raises(KeyError, match="rule must be greater, less or None"):
        make_hook([], save_best="bbox_mAP", rule="bigger")
    assert make_hook([], save_best="foo", rule="less").rule == "less"
    assert make_hook([], save_best="foo", greater_keys="fo").rule == "greater"
    with pytest.raises(TypeError, match="pytorch DataLoader"):
        EvalHook([1, 2, 3])
    with pytest.raises(ValueError, match="interval must be a positive number"):
        make_hook([], interval=0)


def test_auto_best_replaces_the_previous_file_and_logs_metrics(tmp_path):
    hook = make_hook([0.3, 0.5, 0.4, 0.6], save_best="auto", metric="bbox")
    assert hook.rule is None
    runner = FakeRunner(tmp_path, meta={})
    hook.before_run(runner)
    assert train_epochs(hook, runner, [0]) == [1]
    assert hook.key_indicator == "bbox_mAP" and hook.rule == "greater"
    assert best_files(tmp_path) == ["best_bbox_mAP_epoch_1.pth"]
    assert runner.log_buffer.ready
    assert runner.log_buffer.output == {"eval_iter_num": 3, "bbox_mAP": 0.3,
                                        "bbox_mAP_50": pytest.approx(0.4),
                                        "loss_like": 0.7}
    # evaluate() got the test results and the eval kwargs
    assert hook.dataloader.dataset.calls[0] == (["r0", "r1", "r2"], {"metric": "bbox"})
    assert hook.latest_results == ["r0", "r1", "r2"]

    train_epochs(hook, runner, [1, 2, 3])
    assert best_files(tmp_path) == ["best_bbox_mAP_epoch_4.pth"]
    assert [name for name, _ in runner.saved] == [
        "best_bbox_mAP_epoch_1.pth", "best_bbox_mAP_epoch_2.pth", "best_bbox_mAP_epoch_4.pth"]
    assert all(symlink is False for _, symlink in runner.saved)
    msgs = runner.meta["hook_msgs"]
    assert msgs["best_score"] == 0.6
    assert msgs["best_ckpt"] == str(tmp_path / "best_bbox_mAP_epoch_4.pth")
    # the checkpoint itself carries the best score and path
    saved = torch.load(msgs["best_ckpt"], weights_only=False)
    assert saved["meta"]["hook_msgs"]["best_score"] == 0.6


def test_less_rule_keeps_the_lowest(tmp_path):
    hook = make_hook([0.3, 0.5, 0.1], save_best="loss_like")
    runner = FakeRunner(tmp_path, meta={})
    hook.before_run(runner)
    train_epochs(hook, runner, [0, 1, 2])
    assert runner.meta["hook_msgs"]["best_score"] == pytest.approx(0.5)
    assert best_files(tmp_path) == ["best_loss_like_epoch_2.pth"]


def test_best_is_kept_across_a_resume(tmp_path):
    hook = make_hook([0.3, 0.5], save_best="bbox_mAP")
    runner = FakeRunner(tmp_path, meta={})
    hook.before_run(runner)
    train_epochs(hook, runner, [0, 1])
    ckpt = torch.load(runner.meta["hook_msgs"]["best_ckpt"], weights_only=False)

    # a new process: a new hook and a runner whose meta comes from the checkpoint
    hook = make_hook([0.4, 0.7], save_best="bbox_mAP")
    runner = FakeRunner(tmp_path, meta=ckpt["meta"])
    hook.before_run(runner)
    assert hook.best_ckpt_path == str(tmp_path / "best_bbox_mAP_epoch_2.pth")
    train_epochs(hook, runner, [2])
    assert best_files(tmp_path) == ["best_bbox_mAP_epoch_2.pth"]  # 0.4 < 0.5
    train_epochs(hook, runner, [3])
    assert best_files(tmp_path) == ["best_bbox_mAP_epoch_4.pth"]  # old best removed
    assert runner.meta["hook_msgs"]["best_score"] == 0.7


def test_meta_none_is_created_and_zero_score_saves_nothing(tmp_path):
    hook = make_hook([0.0], save_best="bbox_mAP")
    runner = FakeRunner(tmp_path, meta=None)
    with pytest.warns(UserWarning, match="runner.meta is None"):
        hook.before_run(runner)
    train_epochs(hook, runner, [0])
    assert runner.meta == {"hook_msgs": {}} and best_files(tmp_path) == []


def test_interval_and_start(tmp_path):
    runner = FakeRunner(tmp_path, meta={})
    hook = make_hook([0.1] * 10, interval=2)
    assert train_epochs(hook, runner, range(6)) == [2, 4, 6]
    hook = make_hook([0.1] * 10, start=3, interval=2)
    assert train_epochs(hook, runner, range(8)) == [3, 5, 7]
    # resuming at epoch 4 (0-based) with start=3: evaluate once before training goes on
    hook = make_hook([0.1] * 10, start=3, interval=1)
    assert train_epochs(hook, runner, [4, 5]) == ["before 4", 5, 6]


def test_dynamic_intervals(tmp_path):
    runner = FakeRunner(tmp_path, meta={})
    hook = make_hook([0.1] * 10, interval=2, dynamic_intervals=[(3, 1)])
    assert train_epochs(hook, runner, range(6)) == [2, 3, 4, 5, 6]


def test_by_iteration_flushes_logger_hooks_first(tmp_path):
    class RecordingLogger(LoggerHook):
        def __init__(self):
            self.seen = []

        def after_train_iter(self, runner):
            self.seen.append(dict(runner.log_buffer.output))

    runner = FakeRunner(tmp_path, meta={})
    text = RecordingLogger()
    runner.hooks = [text, Hook()]
    hook = make_hook([0.2, 0.3], by_epoch=False, interval=5)
    evaluated = []
    for it in range(10):
        runner.iter = it
        runner.log_buffer.output["loss"] = it
        hook.before_train_iter(runner)
        hook.after_train_iter(runner)
        if runner.log_buffer.ready:
            evaluated.append(it + 1)
            runner.log_buffer.clear()
    assert evaluated == [5, 10]
    assert text.seen == [{"loss": 4}, {"loss": 9}]  # the training log went out first


def test_out_dir_joins_the_work_dir_name(tmp_path):
    hook = make_hook([0.5], save_best="bbox_mAP", out_dir=str(tmp_path / "store"))
    runner = FakeRunner(tmp_path / "work_dirs" / "exp1", meta={})
    hook.before_run(runner)
    train_epochs(hook, runner, [0])
    assert best_files(tmp_path / "store" / "exp1") == ["best_bbox_mAP_epoch_1.pth"]


def test_missing_save_best_key_is_named(tmp_path):
    hook = make_hook([0.5], save_best="segm_mAP")
    runner = FakeRunner(tmp_path, meta={})
    hook.before_run(runner)
    with pytest.raises(KeyError, match="save_best='segm_mAP' is not a metric"):
        train_epochs(hook, runner, [0])


def test_registry_build_priority_and_dist_hook(tmp_path):
    dl = DataLoader(ScoreDataset([0.5]))
    hook = HOOKS.build(dict(type="EvalHook", dataloader=dl, interval=2, metric="bbox",
                            classwise=True))
    assert hook.eval_kwargs == {"metric": "bbox", "classwise": True}
    # an engine hook; 'priority' is left for runner.register_hook(hook, priority='LOW')
    assert isinstance(hook, Hook) and not hasattr(hook, "priority")

    calls = []

    def dist_test(model, dataloader, tmpdir=None, gpu_collect=False):
        calls.append((tmpdir, gpu_collect))
        return ["a", "b", "c"]

    hook = HOOKS.build(dict(type="DistEvalHook", dataloader=dl, test_fn=dist_test,
                            save_best="auto", gpu_collect=True))
    runner = FakeRunner(tmp_path, meta={})
    runner.rank = 0
    hook.before_run(runner)
    train_epochs(hook, runner, [0])
    assert calls == [(os.path.join(str(tmp_path), ".eval_hook"), True)]
    assert best_files(tmp_path) == ["best_bbox_mAP_epoch_1.pth"]
    assert isinstance(hook, DistEvalHook)
