import pytest

from detbox.engine.hooks import EarlyStoppingHook, Hook
from tests.engine.engine_toys import make_runner, toy_batches


class FakeEvalHook(Hook):
    def __init__(self, scores, key="bbox_mAP"):
        self.scores, self.key = scores, key

    def after_train_epoch(self, runner):
        score = self.scores[runner.epoch]
        if score is not None:
            runner.log_buffer.output[self.key] = score
            runner.log_buffer.ready = True


def run(scores, meta=None, logger=True, **kwargs):
    runner = make_runner(max_epochs=len(scores), meta=meta)
    runner.register_hook(FakeEvalHook(scores), "LOW")
    hook = EarlyStoppingHook(**kwargs)
    runner.register_hook(hook, 80)
    if logger:
        runner.register_training_hooks(None, log_config=dict(
            interval=50, hooks=[dict(type="TextLoggerHook")]), progress_bar=False)
    runner.run([toy_batches(1)], [("train", 1)])
    return runner, hook


def test_stops_after_patience_evaluations_without_improvement():
    runner, hook = run([0.1, 0.3, 0.3, None, 0.29, 0.5, 0.6], patience=2)
    # 0.3 (epoch 2) is the best; epoch 3 ties, epoch 4 has no evaluation, epoch 5 is lower
    assert runner.epoch == 5 and "has not improved for 2 evaluations" in runner.stop_reason
    assert (hook.best, hook.best_at, hook.wait) == (0.3, 2, 2)
    assert runner.meta["hook_msgs"]["early_stopping"] == dict(
        monitor="bbox_mAP", best=0.3, best_at=2, wait=2)


def test_less_rule_min_delta_and_completion():
    runner, hook = run([1.0, 0.95, 0.8, 0.79], monitor="bbox_mAP", rule="less",
                       min_delta=0.1, patience=3)
    assert runner.epoch == 4 and runner.stop_reason is None and hook.best == 0.8
    assert hook.wait == 1  # 0.95 and 0.79 are within min_delta of the best


def test_state_restored_from_meta_and_priority_check():
    meta = dict(hook_msgs=dict(early_stopping=dict(monitor="bbox_mAP", best=0.9, best_at=3,
                                                   wait=1)))
    runner, hook = run([0.5, 0.6], meta=meta, patience=2)
    assert runner.epoch == 1 and hook.best == 0.9
    runner = make_runner(max_epochs=1)
    runner.register_hook(FakeEvalHook([0.1]), "LOW")
    runner.register_hook(EarlyStoppingHook(), "NORMAL")
    with pytest.raises(ValueError, match="would run before FakeEvalHook.*priority=80"):
        runner.run([toy_batches(1)], [("train", 1)])
