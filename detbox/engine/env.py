"""What the run was made with, for the log and the checkpoint meta."""

from __future__ import annotations

import os
import platform
import sys
from collections import OrderedDict

import numpy as np
import torch

__all__ = ["collect_env", "format_env"]


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def collect_env() -> OrderedDict:
    """Versions and hardware: Python, platform, CPU, GPUs, torch, torchvision, NumPy, OpenCV,
    detbox (values are strings or bools, JSON-friendly).

    >>> env = collect_env()
    >>> 'PyTorch' in env and 'detbox' in env
    True
    """
    from .. import __version__

    env: OrderedDict = OrderedDict()
    env["sys.platform"] = sys.platform
    env["Python"] = sys.version.replace("\n", "")
    env["Platform"] = platform.platform()
    env["CPU"] = f"{_cpu_name()} ({os.cpu_count()} logical cores)"
    cuda = torch.cuda.is_available()
    env["CUDA available"] = cuda
    if cuda:
        names: dict[str, list[str]] = {}
        for i in range(torch.cuda.device_count()):
            names.setdefault(torch.cuda.get_device_name(i), []).append(str(i))
        for name, ids in names.items():
            env["GPU " + ",".join(ids)] = name
        env["CUDA (torch)"] = str(torch.version.cuda)
        env["cuDNN"] = str(torch.backends.cudnn.version())
    env["PyTorch"] = torch.__version__
    env["PyTorch threads"] = torch.get_num_threads()
    try:
        import torchvision

        env["TorchVision"] = torchvision.__version__
    except ImportError:
        env["TorchVision"] = "not installed"
    env["NumPy"] = np.__version__
    try:
        import cv2

        env["OpenCV"] = cv2.__version__
    except ImportError:
        env["OpenCV"] = "not installed"
    env["detbox"] = __version__
    return env


def format_env(env: dict) -> str:
    """``key: value`` lines, as the training log prints them."""
    return "\n".join(f"{key}: {value}" for key, value in env.items())
