"""``detbox.apis.runtime``: the tools' error handling and checkpoint checks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from detbox.apis.runtime import (
    CheckpointError,
    UsageError,
    check_test_options,
    checkpoint_state_for,
    read_checkpoint,
    run_tool,
)
from detbox.config.validate import ConfigValidationError


def _raise(err: BaseException):
    def main():
        raise err
    return main


@pytest.mark.parametrize("err", [FileNotFoundError("config file 'x.py' does not exist"),
                                 ConfigValidationError("'lr_cofig': did you mean 'lr_config'?"),
                                 UsageError("nothing to do"),
                                 CheckpointError("checkpoint a.pth does not fit")])
def test_user_errors_become_one_line_and_status_1(err, capsys, monkeypatch):
    monkeypatch.delenv("DETBOX_DEBUG", raising=False)
    assert run_tool(_raise(err)) == 1
    assert capsys.readouterr().err == f"error: {err}\n"


def test_bugs_keep_their_traceback_and_debug_shows_every_traceback(monkeypatch):
    monkeypatch.delenv("DETBOX_DEBUG", raising=False)
    with pytest.raises(ZeroDivisionError):
        run_tool(_raise(ZeroDivisionError("bug")))
    monkeypatch.setenv("DETBOX_DEBUG", "1")
    with pytest.raises(FileNotFoundError):
        run_tool(_raise(FileNotFoundError("x")))


def test_debug_flag_is_taken_from_the_command_line(monkeypatch, capsys):
    import sys

    from detbox.datasets.data_check import DataCheckError
    from detbox.utils.safe_load import UnsafeCheckpointError

    monkeypatch.delenv("DETBOX_DEBUG", raising=False)
    for err in (UnsafeCheckpointError("refused"), DataCheckError("2 image files do not exist")):
        assert run_tool(_raise(err)) == 1
        assert capsys.readouterr().err == f"error: {err}\n"
    seen = []
    monkeypatch.setattr(sys, "argv", ["tool.py", "cfg.py", "--debug"])
    with pytest.raises(FileNotFoundError):
        run_tool(lambda: (seen.append(list(sys.argv)), _raise(FileNotFoundError("x"))())[1])
    assert seen == [["tool.py", "cfg.py"]]  # the tool's own parser never sees --debug
    with pytest.raises(UsageError):
        run_tool(_raise(UsageError("x")), debug=True)


def test_interrupt_and_success_status(capsys):
    assert run_tool(_raise(KeyboardInterrupt())) == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert run_tool(lambda: None) == 0


def test_test_options_that_cannot_work():
    with pytest.raises(UsageError, match="nothing to do"):
        check_test_options(None, None, False, False, None)
    with pytest.raises(UsageError, match="cannot be both"):
        check_test_options(None, ["bbox"], True, False, None)
    with pytest.raises(UsageError, match=r"\.pkl"):
        check_test_options("out.json", ["bbox"], False, False, None)
    check_test_options("out.pkl", None, False, False, None)


def test_checkpoint_state_for_allows_extra_keys_and_names_missing_and_misshapen():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    state = {f"module.{k}": v.clone() for k, v in model.state_dict().items()}
    state["ema_0_weight"] = torch.zeros(1)
    fitted = checkpoint_state_for(model, dict(state_dict=state), "a.pth")
    assert list(fitted) == ["0.weight", "0.bias", "1.weight", "1.bias", "ema_0_weight"]

    other = nn.Sequential(nn.Linear(2, 4))
    with pytest.raises(CheckpointError) as info:
        checkpoint_state_for(model, other.state_dict(), "b.pth", "cfg.py")
    message = str(info.value)
    assert "checkpoint b.pth does not fit the model of cfg.py" in message
    assert "2 weights of the model are not in it (e.g. 1.weight)" in message
    assert "2 weights have other shapes (e.g. 0.weight: (4, 2) in the file, (3, 2) in the " \
           "model)" in message


def test_read_checkpoint_refuses_files_that_are_not_checkpoints(tmp_path):
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(CheckpointError, match="text.pth"):
        read_checkpoint(str(tmp_path / "text.pth"))
    torch.save([1, 2], tmp_path / "list.pth")
    with pytest.raises(CheckpointError, match="holds a list"):
        read_checkpoint(str(tmp_path / "list.pth"))
    with pytest.raises(FileNotFoundError):
        read_checkpoint(str(tmp_path / "missing.pth"))
    torch.save(dict(state_dict={}, meta=dict(epoch=1)), tmp_path / "ok.pth")
    assert read_checkpoint(str(tmp_path / "ok.pth"))["meta"] == dict(epoch=1)
