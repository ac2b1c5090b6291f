"""EMA hooks: MMDetection's buffer names, the update formulas, the epoch swap."""

import math

import torch

from detbox.engine.hooks import EMAHook, ExpMomentumEMAHook, LinearMomentumEMAHook, OptimizerHook
from tests.engine.engine_toys import Recorder, make_runner, toy_batches


def snapshot(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()
            if not k.startswith("ema_")}


def run_ema(hook, kind="iter", n=3):
    runner = make_runner(kind=kind, **(dict(max_iters=n) if kind == "iter" else
                                       dict(max_epochs=1)))
    runner.register_hook(OptimizerHook(), "ABOVE_NORMAL")
    runner.register_hook(hook, 49)
    before = Recorder("before_run", snapshot)
    runner.register_hook(before, "LOWEST")
    after_step = Recorder("after_train_iter", snapshot)
    runner.register_hook(after_step, 45)  # after the optimizer step, before the EMA update
    runner.run([toy_batches(n)], [("train", 1)])
    return runner, [before.values[0]] + after_step.values


def test_exp_momentum_ema_names_and_values():
    runner, states = run_ema(ExpMomentumEMAHook(momentum=0.01, total_iter=5))
    buffers = dict(runner.model.named_buffers())
    assert {"ema_conv_weight", "ema_bn_running_mean", "ema_bn_num_batches_tracked",
            "ema_fc_bias"} <= set(buffers)
    for key in ("fc.weight", "bn.running_var"):
        ema = states[0][key]
        for it in range(3):
            m = 0.99 * math.exp(-(1 + it) / 5) + 0.01
            ema = (1 - m) * ema + m * states[it + 1][key]
        assert torch.allclose(buffers["ema_" + key.replace(".", "_")], ema, atol=1e-7)
    assert buffers["ema_bn_num_batches_tracked"] == 0  # integers are not averaged
    assert "ema_fc_weight" in runner.model.state_dict()  # saved with the checkpoints


def test_mmcv_ema_hook_interval_and_parameters_only():
    runner, states = run_ema(EMAHook(momentum=0.5, interval=2, warm_up=1), n=4)
    buffers = dict(runner.model.named_buffers())
    assert "ema_bn_running_mean" not in buffers
    # momentum 0.5 ** 2; updates when iter % 2 == 0 (iterations 0 and 2)
    ema = states[0]["fc.weight"]
    ema = 0.75 * ema + 0.25 * states[1]["fc.weight"]
    ema = 0.75 * ema + 0.25 * states[3]["fc.weight"]
    assert torch.allclose(buffers["ema_fc_weight"], ema, atol=1e-7)


def test_linear_momentum_and_epoch_swap():
    runner, states = run_ema(LinearMomentumEMAHook(momentum=0.5, warm_up=1), kind="epoch", n=2)
    # m = min(0.5, (1 + it) / (1 + it)) = 0.5; after the epoch the model holds the average
    ema = states[0]["fc.weight"]
    for it in range(2):
        ema = 0.5 * ema + 0.5 * states[it + 1]["fc.weight"]
    assert torch.allclose(runner.model.fc.weight, ema, atol=1e-7)
    assert torch.equal(runner.model.ema_fc_weight, states[-1]["fc.weight"])
