"""OptimizerHook, gradient accumulation, fp16/bf16 autocast and build_optimizer_hook."""

import pytest
import torch
from torch import nn

from detbox.engine import EpochBasedRunner, IterBasedRunner
from detbox.engine.hooks import (
    CheckpointHook,
    Fp16OptimizerHook,
    GradientCumulativeFp16OptimizerHook,
    GradientCumulativeOptimizerHook,
    OptimizerHook,
    build_optimizer_hook,
)
from tests.engine.engine_toys import LOGGER, Recorder, ToyModel, make_runner, toy_batches


class Dot(nn.Module):
    """``loss = w . x`` with ``w`` starting at (1, 1), so the gradient is the batch's x."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(2))

    def train_step(self, data, optimizer=None):
        loss = (self.w * data).sum()
        return dict(loss=loss, log_vars=dict(loss=loss.item()), num_samples=1)


def dot_runner(max_iters, lr=1.0):
    model = Dot()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    return IterBasedRunner(model, optimizer=opt, logger=LOGGER, max_iters=max_iters)


def test_grad_clip_clips_and_logs_the_norm():
    runner = dot_runner(1)
    runner.register_hook(OptimizerHook(grad_clip=dict(max_norm=1.0, norm_type=2)))
    runner.run([[torch.tensor([3.0, 4.0])]], [("train", 1)])
    # gradient (3, 4), norm 5, clipped to (0.6, 0.8); SGD lr 1 from (1, 1)
    assert runner.model.w.detach().tolist() == pytest.approx([0.4, 0.2])
    assert runner.log_buffer.val_history["grad_norm"] == [pytest.approx(5.0)]


def test_no_clip_no_grad_norm():
    runner = dot_runner(1)
    runner.register_hook(OptimizerHook())
    runner.run([[torch.tensor([3.0, 4.0])]], [("train", 1)])
    assert runner.model.w.detach().tolist() == pytest.approx([-2.0, -3.0])
    assert "grad_norm" not in runner.log_buffer.val_history


def test_gradient_cumulative_steps_every_n_and_at_the_end():
    runner = dot_runner(5)
    runner.register_hook(GradientCumulativeOptimizerHook(cumulative_iters=2))
    rec = Recorder("after_train_iter", lambda r: r.model.w.detach()[0].item())
    runner.register_hook(rec, "LOWEST")
    runner.run([[torch.tensor([1.0, 0.0])]], [("train", 1)])
    # losses divided by 2 (by 1 for the leftover 5th iteration); steps after 2, 4 and 5
    assert rec.values == pytest.approx([1.0, 0.0, 0.0, -1.0, -2.0])


def test_bf16_autocast_on_cpu_runs_a_step():
    seen = []

    class Probe(ToyModel):
        def train_step(self, data, optimizer=None):
            out = self.fc(torch.randn(2, 2))
            seen.append((torch.is_autocast_enabled("cpu"), out.dtype))
            return super().train_step(data, optimizer)

    model = Probe()
    model.fc.fp16_enabled = False
    runner = make_runner(model=model, max_epochs=1)
    before = model.fc.weight.detach().clone()
    hook = build_optimizer_hook(dict(grad_clip=dict(max_norm=10)), dict(loss_scale=512.0))
    assert isinstance(hook, Fp16OptimizerHook)
    runner.register_hook(hook, "ABOVE_NORMAL")
    runner.run([toy_batches(2)], [("train", 1)])
    assert seen == [(True, torch.bfloat16)] * 2 and model.fc.fp16_enabled
    assert hook.autocast_dtype == torch.bfloat16 and not hook.loss_scaler.is_enabled()
    assert model.fc.weight.dtype == torch.float32
    assert not torch.equal(model.fc.weight.detach(), before)
    assert all(torch.isfinite(torch.tensor(v)) for v in runner.log_buffer.val_history["loss"])


def test_fp16_scaler_state_is_saved_and_restored(tmp_path):
    def fp16_runner():
        runner = make_runner(kind="iter", max_iters=3, work_dir=str(tmp_path), meta={})
        runner.register_hook(Fp16OptimizerHook(
            dtype="float16", loss_scale=dict(init_scale=256.0, growth_interval=1)),
            "ABOVE_NORMAL")
        return runner

    runner = fp16_runner()
    runner.register_hook(CheckpointHook(interval=3, by_epoch=False))
    runner.run([toy_batches(3)], [("train", 1)])
    # the scale doubles after each of the 3 finite steps
    assert runner.meta["fp16"]["loss_scaler"]["scale"] == 2048.0
    resumed = fp16_runner()
    resumed.resume(str(tmp_path / "iter_3.pth"))
    hook = resumed.hooks[0]
    hook.before_run(resumed)
    assert hook.loss_scaler.get_scale() == 2048.0


def test_static_loss_scale_stays():
    runner = make_runner(kind="iter", max_iters=2)
    hook = Fp16OptimizerHook(dtype="float16", loss_scale=512.0)
    runner.register_hook(hook)
    runner.run([toy_batches(2)], [("train", 1)])
    assert hook.loss_scaler.get_scale() == 512.0


def test_build_optimizer_hook_variants():
    assert build_optimizer_hook(dict(grad_clip=None), None) == dict(grad_clip=None)
    assert build_optimizer_hook(dict(grad_clip=None), dict(loss_scale=512.0, enabled=False)) \
        == dict(grad_clip=None)
    hook = build_optimizer_hook(dict(type="GradientCumulativeOptimizerHook", cumulative_iters=4),
                                dict(loss_scale="dynamic"), distributed=True)
    assert isinstance(hook, GradientCumulativeFp16OptimizerHook)
    assert hook.cumulative_iters == 4 and hook.distributed
    with pytest.raises(ValueError, match="fp16 is set but optimizer_config.type is 'MyHook'"):
        build_optimizer_hook(dict(type="MyHook"), dict(loss_scale=512.0))
    with pytest.raises(ValueError, match="loss_scale must be"):
        Fp16OptimizerHook(loss_scale="auto")


def test_register_optimizer_hook_from_dict():
    runner = EpochBasedRunner(ToyModel(), optimizer=None, logger=LOGGER, max_epochs=1)
    runner.register_optimizer_hook(dict(grad_clip=dict(max_norm=1)))
    assert isinstance(runner.hooks[0], OptimizerHook) and runner.hooks[0].priority == 40
