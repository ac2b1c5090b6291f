from detbox.engine import IterLoader
from tests.engine.engine_toys import Recorder, ToyModel, make_runner, toy_batches


class EpochList(list):
    """A list 'loader' whose sampler records set_epoch calls."""

    class _Sampler:
        def __init__(self):
            self.epochs = []

        def set_epoch(self, epoch):
            self.epochs.append(epoch)

    def __init__(self, items):
        super().__init__(items)
        self.sampler = self._Sampler()


def test_iter_loader_restarts_and_sets_epoch():
    data = EpochList([1, 2])
    loader = IterLoader(data)
    assert [next(loader) for _ in range(5)] == [1, 2, 1, 2, 1]
    assert loader.epoch == 2 and data.sampler.epochs == [1, 2] and len(loader) == 2


def test_counts_and_workflow_with_val():
    model = ToyModel()
    runner = make_runner(kind="iter", model=model, max_iters=7)
    epochs = Recorder("after_train_iter", lambda r: (r.iter, r.epoch))
    runner.register_hook(epochs)
    runner.run([EpochList(toy_batches(3)), toy_batches(2)], [("train", 3), ("val", 1)])
    assert runner.iter == 7 and model.train_calls == 7
    assert model.val_calls == 3 and model.grad_enabled_in_val == [False] * 3
    # as in mmcv, runner.epoch is read from the loader before the batch that restarts it
    assert [e for _, e in epochs.values] == [0, 0, 0, 0, 1, 1, 1]


def test_iter_runner_hooks_default_to_by_iteration():
    runner = make_runner(kind="iter", max_iters=4)
    log_config = dict(interval=2, hooks=[dict(type="TextLoggerHook")])
    runner.register_training_hooks(dict(policy="step", step=[2]), None, dict(interval=2),
                                   log_config)
    by_epoch = {type(h).__name__: getattr(h, "by_epoch", None) for h in runner.hooks}
    assert by_epoch == {"StepLrUpdaterHook": False, "CheckpointHook": False,
                        "IterTimerHook": None, "TextLoggerHook": False, "ProgressBarHook": None}
    assert log_config == dict(interval=2, hooks=[dict(type="TextLoggerHook")])
