import random

import numpy as np
import pytest
import torch

from detbox.engine import collect_env, format_env, init_random_seed, set_random_seed


@pytest.fixture
def restore_determinism():
    yield
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False
    torch.backends.cudnn.benchmark = False


def draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_same_seed_same_draws(restore_determinism):
    set_random_seed(123)
    first = draws()
    set_random_seed(123, deterministic=True)
    assert draws() == first
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark


def test_init_random_seed():
    assert init_random_seed(5) == 5
    seed = init_random_seed()
    assert isinstance(seed, int) and 0 <= seed < 2**31


def test_collect_env_is_json_friendly():
    import json

    env = collect_env()
    assert {"sys.platform", "Python", "CPU", "CUDA available", "PyTorch", "TorchVision",
            "NumPy", "OpenCV", "detbox"} <= set(env)
    assert env["PyTorch"] == torch.__version__
    json.dumps(env)
    assert f"PyTorch: {torch.__version__}" in format_env(env).splitlines()
