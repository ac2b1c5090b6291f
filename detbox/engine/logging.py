"""The ``detbox`` logger the tools and the runner write to (console, and a file on rank 0).

Library modules log through ``logging.getLogger(__name__)`` (``detbox.*``), so once
:func:`get_root_logger` has attached its handlers, their messages reach the same console and
``{work_dir}/{timestamp}.log`` file.
"""

from __future__ import annotations

import logging
import os

from .dist import get_dist_info

__all__ = ["get_root_logger", "LOG_FORMAT"]

LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
_MARK = "_detbox_handler"


def _own_handlers(logger: logging.Logger, kind: type) -> list[logging.Handler]:
    return [h for h in logger.handlers if getattr(h, _MARK, None) is kind]


def get_root_logger(log_file: str | None = None, log_level: int | str = logging.INFO,
                    name: str = "detbox", file_mode: str = "w") -> logging.Logger:
    """The ``detbox`` logger with a console handler and, on rank 0, a file handler.

    Calling it again returns the same logger; a new ``log_file`` replaces the file handler
    this function attached before. Ranks other than 0 only log errors.

    Args:
        log_file: the text log (``{work_dir}/{timestamp}.log``), or ``None``.
        log_level: ``logging.INFO``, ``'INFO'``...
        name: the logger name.
        file_mode: ``'w'`` (new file) or ``'a'``.
    """
    logger = logging.getLogger(name)
    if isinstance(log_level, str):
        log_level = logging.getLevelName(log_level.upper())
        if not isinstance(log_level, int):
            raise ValueError(f"unknown log_level {log_level!r}")
    rank, _ = get_dist_info()
    formatter = logging.Formatter(LOG_FORMAT)
    if not _own_handlers(logger, logging.StreamHandler):
        stream = logging.StreamHandler()
        setattr(stream, _MARK, logging.StreamHandler)
        logger.addHandler(stream)
    if rank == 0 and log_file is not None:
        for old in _own_handlers(logger, logging.FileHandler):
            if getattr(old, "baseFilename", None) != os.path.abspath(log_file):
                logger.removeHandler(old)
                old.close()
        if not _own_handlers(logger, logging.FileHandler):
            os.makedirs(os.path.dirname(os.path.abspath(log_file)), exist_ok=True)
            file_handler = logging.FileHandler(log_file, file_mode, encoding="utf-8")
            setattr(file_handler, _MARK, logging.FileHandler)
            logger.addHandler(file_handler)
    handlers = _own_handlers(logger, logging.StreamHandler) + _own_handlers(
        logger, logging.FileHandler)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.setLevel(log_level)
    logger.setLevel(log_level if rank == 0 else logging.ERROR)
    return logger
