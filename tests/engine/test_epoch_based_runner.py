import torch
from torch.utils.data import DataLoader, TensorDataset

from detbox.engine.hooks import DistSamplerSeedHook, Hook
from tests.engine.engine_toys import Recorder, ToyModel, make_runner, toy_batches


def test_counts_of_epochs_and_iterations():
    model = ToyModel()
    runner = make_runner(model=model, max_epochs=3)
    inner = Recorder("after_train_iter", lambda r: (r.epoch, r.inner_iter, r.iter))
    runner.register_hook(inner)
    runner.run([toy_batches(4)], [("train", 1)])
    assert (runner.epoch, runner.iter, runner.max_iters, model.train_calls) == (3, 12, 12, 12)
    assert inner.values[:5] == [(0, 0, 0), (0, 1, 1), (0, 2, 2), (0, 3, 3), (1, 0, 4)]


def test_train_and_val_workflow():
    model = ToyModel()
    runner = make_runner(model=model, max_epochs=3)
    modes = Recorder("before_epoch", lambda r: (r.mode, r.epoch, r.model.training))
    runner.register_hook(modes)
    runner.run([toy_batches(2), toy_batches(3)], [("train", 2), ("val", 1)])
    # train, train, val; then train (epoch 3), the second train is skipped, val
    assert modes.values == [("train", 0, True), ("train", 1, True), ("val", 2, False),
                            ("train", 2, True), ("val", 3, False)]
    assert model.train_calls == 6 and model.val_calls == 6
    assert model.grad_enabled_in_val == [False] * 6
    assert runner.log_buffer.val_history["loss"]  # val losses are logged too


def test_request_stop_ends_after_the_epoch_and_runs_after_run():
    class StopAtSecond(Hook):
        def after_train_iter(self, runner):
            if runner.epoch == 1 and runner.inner_iter == 0:
                runner.request_stop("enough")

    runner = make_runner(max_epochs=5)
    runner.register_hook(StopAtSecond())
    ends = Recorder("after_run", lambda r: r.epoch)
    runner.register_hook(ends)
    runner.run([toy_batches(3)], [("train", 1), ("val", 1)][:1])
    assert runner.epoch == 2 and runner.iter == 6 and ends.values == [2]
    assert runner.stop_reason == "enough"


def test_dataloader_batches_and_sampler_epochs():
    class Sampler(torch.utils.data.Sampler):
        def __init__(self, n):
            self.n, self.epochs = n, []

        def set_epoch(self, epoch):
            self.epochs.append(epoch)

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    class PairModel(ToyModel):
        def train_step(self, data, optimizer=None):
            return super().train_step(dict(x=data[0], y=data[1]), optimizer)

    dataset = TensorDataset(torch.randn(4, 1, 3, 3), torch.randn(4, 1))
    sampler = Sampler(4)
    loader = DataLoader(dataset, batch_size=2, sampler=sampler)
    runner = make_runner(model=PairModel(), max_epochs=3)
    runner.register_hook(DistSamplerSeedHook())
    runner.run([loader], [("train", 1)])
    assert sampler.epochs == [0, 1, 2] and runner.iter == 6
