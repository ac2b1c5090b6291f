import pytest

from detbox.engine import Priority, get_priority
from detbox.engine.hooks import Hook, IterTimerHook, OptimizerHook
from tests.engine.engine_toys import ToyModel, make_runner, toy_batches


class Named(Hook):
    def __init__(self, name: str) -> None:
        self.name = name


class StageLog(Hook):
    """Records every stage it is called at."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattribute__(self, name):
        if name in Hook.stages:
            calls = object.__getattribute__(self, "calls")
            return lambda runner: calls.append(name)
        return object.__getattribute__(self, name)


def test_priority_values_and_errors():
    assert [p.value for p in Priority] == [0, 10, 30, 40, 50, 60, 70, 90, 100]
    assert get_priority("very_low") == 90 and get_priority(Priority.ABOVE_NORMAL) == 40
    with pytest.raises(ValueError, match="between 0 and 100"):
        get_priority(101)
    with pytest.raises(ValueError, match="unknown priority 'urgent'.*VERY_HIGH"):
        get_priority("urgent")


def test_register_hook_orders_by_priority_stable_for_equal():
    runner = make_runner()
    for name, prio in [("a", "NORMAL"), ("b", "HIGH"), ("c", 50), ("d", "LOWEST"), ("e", 0),
                       ("f", Priority.NORMAL)]:
        runner.register_hook(Named(name), prio)
    assert [h.name for h in runner.hooks] == ["e", "b", "a", "c", "f", "d"]
    assert [h.priority for h in runner.hooks] == [0, 30, 50, 50, 50, 100]
    with pytest.raises(ValueError, match="already registered"):
        runner.register_hook(runner.hooks[0])


def test_default_hooks_priorities_and_custom_hooks_after_defaults():
    runner = make_runner()
    runner.register_training_hooks(
        dict(policy="step", step=[1]), dict(grad_clip=None), dict(interval=1),
        dict(interval=1, hooks=[dict(type="TextLoggerHook")]),
        dict(policy="step", step=[1]),
        custom_hooks_config=[dict(type="EmptyCacheHook", priority="NORMAL"),
                             dict(type="CheckInvalidLossHook", priority=45),
                             dict(type="SyncBuffersHook")])
    got = [(type(h).__name__, h.priority) for h in runner.hooks]
    assert got == [("StepLrUpdaterHook", 10), ("StepMomentumUpdaterHook", 30),
                   ("OptimizerHook", 40), ("CheckInvalidLossHook", 45),
                   ("CheckpointHook", 50), ("EmptyCacheHook", 50), ("SyncBuffersHook", 50),
                   ("IterTimerHook", 70), ("TextLoggerHook", 90), ("ProgressBarHook", 90)]


def test_policy_name_rule_and_unknown_policy():
    runner = make_runner()
    runner.register_lr_hook(dict(policy="CosineAnnealing", min_lr=0.0))
    runner.register_lr_hook(dict(policy="poly"))
    assert [type(h).__name__ for h in runner.hooks] == ["CosineAnnealingLrUpdaterHook",
                                                        "PolyLrUpdaterHook"]
    with pytest.raises(KeyError, match=r"unknown policy 'cosineannealing'.*known policies:.*"
                                       r"CosineAnnealing.*Step.*YOLOX"):
        runner.register_lr_hook(dict(policy="cosineannealing", min_lr=0.0))
    cfg = dict(policy="step", step=[2])
    runner.register_lr_hook(cfg)
    assert cfg == dict(policy="step", step=[2])  # the config is not modified


def test_call_order_of_stages_with_train_and_val_workflow():
    runner = make_runner(max_epochs=1)
    log = StageLog()
    runner.register_hook(log)
    runner.run([toy_batches(2), toy_batches(1)], [("train", 1), ("val", 1)])
    assert log.calls == [
        "before_run", "before_train_epoch",
        "before_train_iter", "after_train_iter", "before_train_iter", "after_train_iter",
        "after_train_epoch", "before_val_epoch", "before_val_iter", "after_val_iter",
        "after_val_epoch", "after_run"]


def test_helpers_and_triggered_stages():
    class FakeRunner:
        epoch, iter, inner_iter, max_epochs, max_iters = 2, 9, 4, 3, 10
        data_loader = [0] * 5

    hook, runner = Hook(), FakeRunner()
    assert hook.every_n_epochs(runner, 3) and not hook.every_n_epochs(runner, 2)
    assert hook.every_n_iters(runner, 5) and hook.every_n_inner_iters(runner, 5)
    assert not hook.every_n_iters(runner, -1)
    assert hook.end_of_epoch(runner) and hook.is_last_epoch(runner) and hook.is_last_iter(runner)
    assert IterTimerHook().get_triggered_stages() == [
        "before_train_epoch", "before_train_iter", "after_train_iter", "before_val_epoch",
        "before_val_iter", "after_val_iter"]
    assert OptimizerHook().get_triggered_stages() == ["after_train_iter"]


def test_get_hook_info_lists_stages():
    runner = make_runner(model=ToyModel())
    runner.register_hook(OptimizerHook(), "ABOVE_NORMAL")
    assert "after_train_iter:\n(ABOVE_NORMAL) OptimizerHook" in runner.get_hook_info()
