"""Fixtures of the engine tests (the toys live in engine_toys.py beside this file)."""

import logging

import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread_and_clean_logger():
    """One torch thread (the toy ops are tiny: thread hand-offs would dominate on a busy
    2-core machine), and the ``detbox`` logger left as the test found it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    logger = logging.getLogger("detbox")
    handlers, level = list(logger.handlers), logger.level
    yield
    torch.set_num_threads(threads)
    for handler in logger.handlers[:]:
        if handler not in handlers:
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(level)
