"""The switch that lets code written for MMDetection 2.x / mmcv 1.x run on detbox.

Either put ``import detbox.compat`` above the script's first ``import mmdet`` / ``import
mmcv``, or run the unchanged script with ``python -m detbox.compat script.py [args...]``.
Then ``mmdet.X`` is ``detbox.X`` and ``mmcv.X`` is detbox's mmcv facade (see
:mod:`detbox.mmcompat`). A real installed mmcv or mmdet is never shadowed: the switch refuses
with a message instead.
"""

from __future__ import annotations

import runpy
import sys

from .mmcompat import enable

enable()


def main(argv: list[str] | None = None) -> None:
    """``python -m detbox.compat script.py [args...]``: run ``script.py`` as ``__main__``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m detbox.compat script.py [args...]\n"
              "Runs a script written for MMDetection 2.x / mmcv 1.x with mmdet and mmcv "
              "imports resolved to detbox.")
        raise SystemExit(0 if argv else 2)
    sys.argv = argv
    sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(argv[0])))
    runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
