"""Distributed helpers on two CPU processes (gloo), and the single-process behaviour."""

import json
import socket

import pytest
import torch
import torch.multiprocessing as mp

from detbox.engine import dist as engine_dist
from detbox.engine import get_dist_info, init_dist, master_only, unwrap_model
from detbox.engine.parallel import move_to_device
from tests.engine.engine_toys import dist_worker


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes(tmp_path):
    mp.spawn(dist_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    results = [json.loads((tmp_path / f"{rank}.json").read_text()) for rank in (0, 1)]
    assert [r["dist_info"] for r in results] == [[0, 2], [1, 2]]
    assert {r["backend"] for r in results} == {"gloo"}
    assert results[0]["seed"] == results[1]["seed"]  # broadcast from rank 0
    for r in results:
        assert r["grad"] == pytest.approx([1.5, 3.0])  # DDP averaged x * 1 and x * 2
        assert r["stat"] == pytest.approx([0.5, 0.5]) and r["count"] == 1  # (1 + 2) // 2
    assert [r["master"] for r in results] == ["ran", None]


def test_single_process_defaults_and_errors(monkeypatch):
    assert get_dist_info() == (0, 1)
    assert master_only(lambda: 1)() == 1
    monkeypatch.setattr(engine_dist.mp, "set_start_method", lambda *a, **k: None)
    with pytest.raises(ValueError, match="invalid launcher 'ssh'"):
        init_dist("ssh")
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(KeyError, match="RANK.*torchrun"):
        init_dist("pytorch")


def test_move_to_device_and_unwrap():
    batch = dict(img=torch.zeros(1), img_metas=[dict(flip=False)], gt=[torch.ones(2)])
    moved = move_to_device(batch, "cpu")
    assert moved["img_metas"] == [dict(flip=False)] and torch.equal(moved["gt"][0], torch.ones(2))
    inner = torch.nn.Linear(1, 1)
    assert unwrap_model(torch.nn.DataParallel(torch.nn.DataParallel(inner))) is inner
