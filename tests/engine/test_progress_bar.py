import logging

from detbox.engine.hooks import ProgressBarHook
from tests.engine.engine_toys import Recorder, make_runner, toy_batches


def test_plain_lines_without_a_terminal(caplog):
    runner = make_runner(max_epochs=1)
    runner.register_hook(ProgressBarHook(tty=False, line_interval=2), "VERY_LOW")
    with caplog.at_level(logging.INFO, logger=runner.logger.name):
        runner.run([toy_batches(5)], [("train", 1)])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch 1/1")]
    assert [line.split(",")[0] for line in lines] == [
        "epoch 1/1 [2/5]  40%", "epoch 1/1 [4/5]  80%", "epoch 1/1 [5/5] 100%"]
    assert " it/s, elapsed 0:00:00, eta 0:00:00, loss " in lines[0]


def test_bar_on_a_terminal_and_iteration_mode(capsys):
    runner = make_runner(kind="iter", max_iters=4)
    hook = ProgressBarHook(tty=True)
    runner.register_hook(hook, "VERY_LOW")
    seen = Recorder("after_train_iter", lambda r: (hook._bar.n, hook._bar.total))
    runner.register_hook(seen, "LOWEST")
    runner.run([toy_batches(3)], [("train", 1)])
    assert seen.values == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert hook._bar is None and hook._redirect is None  # closed after the run
    assert "train:" in capsys.readouterr().err


def test_default_registration_and_switches():
    def bars(log_config, progress_bar=None):
        runner = make_runner(max_epochs=1)
        runner.register_training_hooks(None, log_config=log_config, progress_bar=progress_bar)
        return [h for h in runner.hooks if isinstance(h, ProgressBarHook)]

    text = dict(type="TextLoggerHook")
    assert len(bars(dict(interval=5, hooks=[text]))) == 1
    assert bars(dict(interval=5, hooks=[text]), progress_bar=False) == []
    assert bars(None) == []
    (own,) = bars(dict(interval=5, hooks=[text, dict(type="ProgressBarHook", enabled=False)]))
    assert own.enabled is False
