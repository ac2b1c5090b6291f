"""Momentum policies against hand-computed values (mmcv 1.7's formulas)."""

import math

import pytest

from tests.engine.engine_toys import Recorder, make_runner, toy_batches


def momenta(cfg, kind="epoch", epochs=None, iters=None, epoch_len=5, optimizer="SGD"):
    runner = make_runner(kind, max_epochs=epochs, max_iters=iters, optimizer=optimizer)
    runner.register_momentum_hook(cfg)
    rec = Recorder("before_train_iter", lambda r: r.current_momentum()[0])
    runner.register_hook(rec, "LOWEST")
    runner.run([toy_batches(epoch_len, batch=1)], [("train", 1)])
    return rec.values


def test_step_by_epoch():
    assert momenta(dict(policy="step", step=[1]), epochs=2, epoch_len=2) == pytest.approx(
        [0.9, 0.9, 0.45, 0.45])


def test_linear_warmup_divides_the_momentum():
    got = momenta(dict(policy="step", by_epoch=False, step=100, warmup="linear",
                       warmup_iters=4, warmup_ratio=0.9), epochs=1)
    assert got == pytest.approx([0.9 / 0.9, 0.9 / 0.925, 0.9 / 0.95, 0.9 / 0.975, 0.9])


def test_cosine_and_linear_annealing_by_iter():
    cos_ = momenta(dict(policy="CosineAnnealing", by_epoch=False, min_momentum_ratio=0.5),
                   epochs=2)
    assert cos_[5] == pytest.approx(0.675)
    assert cos_[2] == pytest.approx(0.45 + 0.225 * (math.cos(0.2 * math.pi) + 1))
    lin = momenta(dict(policy="LinearAnnealing", by_epoch=False, min_momentum=0.45), epochs=2)
    assert lin[2] == pytest.approx(0.81)


def test_cyclic_default_ratio():
    got = momenta(dict(policy="cyclic"), kind="iter", iters=10)
    low = 0.9 * 0.85 / 0.95
    assert [got[0], got[2], got[4], got[7]] == pytest.approx(
        [0.9, (0.9 + low) / 2, low, (low + 0.9) / 2])


def test_one_cycle_sets_adam_beta1():
    got = momenta(dict(policy="OneCycle"), kind="iter", iters=10, optimizer="Adam")
    # max 0.95 -> base 0.85 until iteration 0.3 * 10 - 1 = 2, then back up to 0.95 at 9
    assert [got[0], got[1], got[2], got[9]] == pytest.approx([0.95, 0.9, 0.85, 0.95])
