"""Text and JSON logs in mmcv's formats; determinism of two seeded runs."""

import json
import logging
import re

from torch.utils.data import DataLoader

from detbox.engine import get_root_logger, set_random_seed
from detbox.engine.hooks import OptimizerHook, TextLoggerHook
from tests.engine.engine_toys import ToyModel, make_runner, toy_batches

TRAIN_LINE = re.compile(
    r"Epoch \[1\]\[2/4\]\tlr: 1\.000e-01, eta: \d+:\d\d:\d\d, time: \d+\.\d{3}, "
    r"data_time: \d+\.\d{3}, memory: 0, (max_rss: \d+, )?loss: \d+\.\d{4}, grad_norm: \d+\.\d{4}$")


def run_logged(tmp_path, kind="epoch", seed=None, loader=None, **hook_args):
    if seed is not None:
        set_random_seed(seed)
    logger = get_root_logger(str(tmp_path / "run.log"))
    runner = make_runner(kind=kind, model=ToyModel(), work_dir=str(tmp_path),
                         meta=dict(seed=0, env_info="Python: 3.11", exp_name="toy.py"),
                         **(dict(max_epochs=2) if kind == "epoch" else dict(max_iters=4)))
    runner.logger = logger
    runner.register_training_hooks(
        None, dict(grad_clip=dict(max_norm=100.0)), None,
        dict(interval=2, hooks=[dict(type="TextLoggerHook", **hook_args)]), progress_bar=False)
    if kind == "epoch":
        runner.run([loader or toy_batches(4), toy_batches(2)], [("train", 1), ("val", 1)])
    else:
        runner.run([toy_batches(4)], [("train", 1)])
    json_log, text_log = tmp_path / f"{runner.timestamp}.log.json", tmp_path / "run.log"
    if not json_log.exists():  # moved to out_dir
        return runner, None, None
    return runner, [json.loads(line) for line in json_log.read_text().splitlines()], \
        text_log.read_text()


def test_json_lines_format(tmp_path):
    _, logs, _ = run_logged(tmp_path)
    assert logs[0] == dict(seed=0, env_info="Python: 3.11", exp_name="toy.py")
    train = [log for log in logs[1:] if log["mode"] == "train"]
    assert [(log["epoch"], log["iter"]) for log in train] == [(1, 2), (1, 4), (2, 2), (2, 4)]
    keys = list(train[0])
    assert keys[:5] == ["mode", "epoch", "iter", "lr", "memory"]
    assert keys[-4:] == ["data_time", "loss", "grad_norm", "time"]
    assert train[0]["lr"] == 0.1 and train[0]["memory"] == 0
    assert all(len(repr(v).split(".")[-1]) <= 5 for v in train[0].values()
               if isinstance(v, float))  # rounded to 5 decimals
    val = [log for log in logs[1:] if log["mode"] == "val"]
    assert [(log["epoch"], log["iter"]) for log in val] == [(1, 2), (2, 2)]
    assert "loss" in val[0] and "grad_norm" not in val[0]


def test_text_log_lines(tmp_path):
    _, _, text = run_logged(tmp_path)
    lines = [line.split(" - ", 3)[-1] for line in text.splitlines()]
    assert any(TRAIN_LINE.match(line) for line in lines), text
    assert any(re.match(r"Epoch\(val\) \[1\]\[2\]\tloss: \d+\.\d{4}$", line) for line in lines)
    assert "Exp name: toy.py" in text
    assert " - detbox - INFO - " in text


def test_iteration_based_lines(tmp_path):
    _, logs, text = run_logged(tmp_path, kind="iter")
    assert [(log["mode"], log["iter"]) for log in logs[1:]] == [("train", 2), ("train", 4)]
    assert re.search(r"Iter \[4/4\]\tlr: 1\.000e-01, eta: 0:00:00, ", text)


def test_same_seed_gives_identical_loss_logs(tmp_path):
    def losses(sub):
        set_random_seed(1)
        loader = DataLoader(toy_batches(8, batch=1), batch_size=None, shuffle=True)
        _, logs, _ = run_logged(tmp_path / sub, seed=1, loader=loader)
        return [(log["mode"], log["loss"], log.get("grad_norm")) for log in logs[1:]]

    first, second = losses("a"), losses("b")
    assert first == second and len(first) == 10


def test_out_dir_copies_logs(tmp_path):
    runner, _, _ = run_logged(tmp_path / "work", out_dir=str(tmp_path / "remote"),
                              keep_local=False)
    copied = sorted(p.name for p in (tmp_path / "remote" / "work").iterdir())
    assert copied == [f"{runner.timestamp}.log.json", "run.log"]
    assert not (tmp_path / "work" / f"{runner.timestamp}.log.json").exists()


def test_logger_hook_resets_the_output_after_the_last_logger(tmp_path):
    runner = make_runner(max_epochs=1, work_dir=str(tmp_path))
    runner.register_hook(OptimizerHook())
    first, last = TextLoggerHook(interval=1), TextLoggerHook(interval=1)
    runner.register_hook(first, "VERY_LOW")
    runner.register_hook(last, "VERY_LOW")
    runner.run([toy_batches(1)], [("train", 1)])
    assert not first.reset_flag and last.reset_flag and not runner.log_buffer.ready


def test_get_root_logger_switches_files(tmp_path):
    logger = get_root_logger(str(tmp_path / "a.log"), log_level="INFO")
    logger.info("to a")
    get_root_logger(str(tmp_path / "b.log"))
    logger.info("to b")
    logging.getLogger("detbox.models.x").info("from a module")
    assert "to a" in (tmp_path / "a.log").read_text()
    b = (tmp_path / "b.log").read_text()
    assert "to b" in b and "to a" not in b and "detbox.models.x - INFO - from a module" in b
