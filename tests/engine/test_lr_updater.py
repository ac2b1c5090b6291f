"""Every lr policy against values computed by hand from mmcv 1.7's formulas."""

import math

import pytest

from detbox.engine.hooks import StepLrUpdaterHook
from tests.engine.engine_toys import Recorder, make_runner, toy_batches


def lrs(lr_config, kind="epoch", epochs=None, iters=None, epoch_len=5, lr=0.1):
    """The lr in effect at each training iteration."""
    runner = make_runner(kind, lr=lr, max_epochs=epochs, max_iters=iters)
    runner.register_lr_hook(lr_config)
    rec = Recorder("before_train_iter", lambda r: r.current_lr()[0])
    runner.register_hook(rec, "LOWEST")
    runner.run([toy_batches(epoch_len, batch=1)], [("train", 1)])
    return rec.values


def approx(values):
    return pytest.approx(values, rel=1e-9, abs=1e-12)


def test_step_by_epoch_with_linear_warmup():
    got = lrs(dict(policy="step", step=[2, 3], warmup="linear", warmup_iters=3,
                   warmup_ratio=0.1), epochs=4)
    # warmup: lr * (1 - (1 - i/3) * 0.9); at i == warmup_iters the regular lr is restored
    assert got[:5] == approx([0.01, 0.04, 0.07, 0.1, 0.1])
    assert got[5:] == approx([0.1] * 5 + [0.01] * 5 + [0.001] * 5)


def test_step_by_iter_interval_constant_warmup_and_min_lr():
    got = lrs(dict(policy="step", by_epoch=False, step=4, gamma=0.5, min_lr=0.02,
                   warmup="constant", warmup_iters=2, warmup_ratio=0.25), epochs=4, epoch_len=4)
    assert got == approx([0.025, 0.025, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05,
                          0.025, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02])


def test_exp_warmup_on_fixed_policy():
    got = lrs(dict(policy="fixed", by_epoch=False, warmup="exp", warmup_iters=4,
                   warmup_ratio=0.01), epochs=1)
    assert got == approx([0.1 * 0.01 ** (1 - i / 4) for i in range(4)] + [0.1])
    assert got[2] == pytest.approx(0.01)


def test_warmup_by_epoch_counts_epochs():
    got = lrs(dict(policy="fixed", warmup="linear", warmup_iters=1, warmup_by_epoch=True,
                   warmup_ratio=0.5), epochs=2, epoch_len=4)
    assert got == approx([0.05, 0.0625, 0.075, 0.0875, 0.1, 0.1, 0.1, 0.1])


def test_exp_and_inv_and_poly():
    assert lrs(dict(policy="exp", gamma=0.5), epochs=3, epoch_len=1) == approx(
        [0.1, 0.05, 0.025])
    inv = lrs(dict(policy="inv", by_epoch=False, gamma=0.1, power=2), iters=11, kind="iter")
    assert inv[10] == pytest.approx(0.1 / 4) and inv[0] == pytest.approx(0.1)
    poly = lrs(dict(policy="poly", by_epoch=False, power=2, min_lr=0.01), epochs=2)
    assert [poly[0], poly[5], poly[9]] == approx([0.1, 0.09 * 0.25 + 0.01, 0.09 * 0.01 + 0.01])


def test_cosine_annealing_by_epoch_min_lr_ratio_and_by_iter_min_lr():
    got = lrs(dict(policy="CosineAnnealing", min_lr_ratio=0.1), epochs=4, epoch_len=1)
    assert got == approx([0.1, 0.01 + 0.045 * (1 + math.cos(math.pi / 4)), 0.055,
                          0.01 + 0.045 * (1 + math.cos(3 * math.pi / 4))])
    by_iter = lrs(dict(policy="CosineAnnealing", by_epoch=False, min_lr=0.0), epochs=2)
    assert by_iter[5] == pytest.approx(0.05)


def test_flat_cosine_and_linear_annealing():
    flat = lrs(dict(policy="FlatCosineAnnealing", by_epoch=False, start_percent=0.5,
                    min_lr=0.0), epochs=2)
    assert flat[:6] == approx([0.1] * 6)
    assert flat[7] == pytest.approx(0.05 * (math.cos(0.4 * math.pi) + 1))
    lin = lrs(dict(policy="LinearAnnealing", by_epoch=False, min_lr_ratio=0.5), epochs=2)
    assert lin[4] == pytest.approx(0.08) and lin[9] == pytest.approx(0.1 - 0.05 * 0.9)


def test_cosine_restart():
    got = lrs(dict(policy="CosineRestart", by_epoch=False, periods=[4, 6],
                   restart_weights=[1, 0.5], min_lr=0.0), epochs=2)
    assert [got[0], got[2], got[4], got[7]] == approx([0.1, 0.05, 0.05, 0.025])


def test_cyclic():
    got = lrs(dict(policy="cyclic", target_ratio=(10, 1e-4), cyclic_times=1,
                   step_ratio_up=0.4), kind="iter", iters=10)
    # up: cos from 0.1 to 1.0 over 4 iterations; down: cos from 1.0 to 1e-5 over 6
    assert [got[0], got[2], got[4], got[7]] == approx([0.1, 0.55, 1.0, 0.500005])


def test_one_cycle():
    got = lrs(dict(policy="OneCycle", max_lr=1.0, pct_start=0.3), kind="iter", iters=10)
    # initial 1.0 / 25; peak at iteration 0.3 * 10 - 1 = 2; 1.0 -> 4e-6 from 2 to 9
    down = 4e-6 + 0.5 * (1.0 - 4e-6) * (math.cos(math.pi / 7) + 1)
    assert [got[0], got[1], got[2], got[3], got[9]] == approx([0.04, 0.52, 1.0, down, 4e-6])


def test_yolox_policy_name_and_schedule():
    got = lrs(dict(policy="YOLOX", warmup="exp", by_epoch=False, warmup_by_epoch=True,
                   warmup_ratio=1, warmup_iters=1, num_last_epochs=1, min_lr_ratio=0.05),
              epochs=6, epoch_len=2)
    mid = 0.005 + 0.0475 * (math.cos(math.pi / 8) + 1)
    assert [got[0], got[1], got[2], got[9], got[11]] == approx([0.025, 0.1, mid, 0.005, 0.005])


def test_invalid_arguments():
    with pytest.raises(ValueError, match="not a supported type for warming up"):
        StepLrUpdaterHook(step=[1], warmup="cosine", warmup_iters=1)
    with pytest.raises(ValueError, match="warmup_ratio"):
        StepLrUpdaterHook(step=[1], warmup="linear", warmup_iters=1, warmup_ratio=0)
    with pytest.raises(TypeError, match="list or integer"):
        StepLrUpdaterHook(step=1.5)
    with pytest.raises(ValueError, match="exactly one of min_lr and min_lr_ratio"):
        make_runner().register_lr_hook(dict(policy="CosineAnnealing"))
