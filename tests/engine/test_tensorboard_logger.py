import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from detbox.engine.hooks import OptimizerHook, TensorboardLoggerHook
from tests.engine.engine_toys import make_runner, toy_batches


def test_event_file_has_losses_lr_and_momentum(tmp_path):
    runner = make_runner(max_epochs=2, work_dir=str(tmp_path))
    runner.register_hook(OptimizerHook(grad_clip=dict(max_norm=10)), "ABOVE_NORMAL")
    runner.register_training_hooks(None, log_config=dict(
        interval=2, hooks=[dict(type="TensorboardLoggerHook")]), progress_bar=False)
    runner.run([toy_batches(4), toy_batches(2)], [("train", 1), ("val", 1)])
    hook = next(h for h in runner.hooks if isinstance(h, TensorboardLoggerHook))
    assert hook.log_dir == str(tmp_path / "tf_logs")
    events = EventAccumulator(hook.log_dir)
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/grad_norm", "val/loss", "learning_rate", "momentum"} <= tags
    assert [e.step for e in events.Scalars("train/loss")] == [2, 4, 6, 8]
    assert events.Scalars("learning_rate")[0].value == pytest.approx(0.1)
    assert [e.step for e in events.Scalars("val/loss")] == [5, 9]
