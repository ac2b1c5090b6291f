"""Where evaluation text goes (``print_log``) and how its tables look (``format_table``).

The tables have the shape of the ``terminaltables.AsciiTable`` ones MMDetection v2 logs:

>>> print(format_table([['class', 'ap'], ['car', '0.500'], ['mAP', '0.500']], footer=True))
+-------+-------+
| class | ap    |
+-------+-------+
| car   | 0.500 |
+-------+-------+
| mAP   | 0.500 |
+-------+-------+
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

__all__ = ["format_table", "print_log", "get_eval_logger"]

_LOGGER = logging.getLogger("detbox.evaluation")


def format_table(rows: Sequence[Sequence[Any]], footer: bool = False) -> str:
    """A plain-text table with a border, the first row as the header.

    Args:
        rows: the rows; the first one is the header. Cells are shown with ``str``
            (``None`` as an empty cell); short rows are padded with empty cells.
        footer: draw a rule above the last row too (for a total / mean row).

    Returns:
        The table, one line per row plus the rules, without a trailing newline.
    """
    if not rows:
        return ""
    ncols = max(len(r) for r in rows)
    cells = [["" if c is None else str(c) for c in r] + [""] * (ncols - len(r)) for r in rows]
    widths = [max(len(r[j]) for r in cells) for j in range(ncols)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(r: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

    out = [rule, line(cells[0]), rule]
    body = cells[1:]
    for i, r in enumerate(body):
        if footer and i == len(body) - 1 and i > 0:
            out.append(rule)
        out.append(line(r))
    if body:
        out.append(rule)
    return "\n".join(out)


def get_eval_logger(logger: logging.Logger | str | None) -> logging.Logger | None:
    """The logger that ``logger`` names (``None`` for ``'silent'``), as :func:`print_log` uses."""
    if logger == "silent":
        return None
    if logger is None:
        return _LOGGER
    if isinstance(logger, logging.Logger):
        return logger
    if isinstance(logger, str):
        return logging.getLogger(logger)
    raise TypeError(f"logger must be a logging.Logger, a logger name, 'silent' or None, "
                    f"got {type(logger).__name__}: {logger!r}")


def print_log(msg: str, logger: logging.Logger | str | None = None,
              level: int = logging.INFO) -> None:
    """Log ``msg`` the way MMDetection's ``print_log`` chooses its target.

    Args:
        msg: the text.
        logger: a ``logging.Logger``; a logger name; ``'silent'`` to drop the message; or
            ``None`` for the ``detbox.evaluation`` logger (v2 printed to stdout here).
        level: the logging level.
    """
    target = get_eval_logger(logger)
    if target is not None:
        target.log(level, msg)
