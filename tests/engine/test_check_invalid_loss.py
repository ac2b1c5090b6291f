import pytest
import torch

from detbox.engine.hooks import CheckInvalidLossHook, InvalidLossError
from tests.engine.engine_toys import ToyModel, make_runner, toy_batches


class NanAt(ToyModel):
    def __init__(self, bad_call, loss_value=float("nan"), only_log_var=False):
        super().__init__()
        self.bad_call, self.loss_value, self.only_log_var = bad_call, loss_value, only_log_var

    def train_step(self, data, optimizer=None):
        out = super().train_step(data, optimizer)
        if self.train_calls == self.bad_call:
            out["log_vars"]["loss_cls"] = self.loss_value
            if not self.only_log_var:
                out["loss"] = out["loss"] * torch.tensor(self.loss_value)
        else:
            out["log_vars"]["loss_cls"] = 0.5
        return out


def test_nan_loss_stops_training_naming_iteration_and_terms():
    runner = make_runner(model=NanAt(bad_call=4), max_epochs=3)
    runner.register_hook(CheckInvalidLossHook(interval=1))
    with pytest.raises(InvalidLossError,
                       match=r"at iteration 4 \(epoch 2, batch 1\): loss=nan, loss_cls=nan"):
        runner.run([toy_batches(3)], [("train", 1)])
    assert runner.iter == 3


def test_infinite_log_var_alone_is_caught_and_interval_respected():
    runner = make_runner(kind="iter", model=NanAt(bad_call=2, loss_value=float("inf"),
                                                  only_log_var=True), max_iters=4)
    runner.register_hook(CheckInvalidLossHook(interval=2))
    with pytest.raises(InvalidLossError, match=r"iteration 2: loss_cls=inf$"):
        runner.run([toy_batches(3)], [("train", 1)])
    runner = make_runner(kind="iter", model=NanAt(bad_call=1), max_iters=1)
    runner.register_hook(CheckInvalidLossHook(interval=2))
    runner.run([toy_batches(1)], [("train", 1)])  # iteration 1 is not checked
