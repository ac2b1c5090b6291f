"""MMDetection 2.28's own evaluation functions, loaded from its wheel, as a parity reference.

Only ``bbox_overlaps.py``, ``mean_ap.py`` and ``recall.py`` are loaded (pure NumPy); their
mmcv / terminaltables imports get stand-ins and the process pool runs serially.
"""

import itertools
import re
import types
import zipfile
from pathlib import Path

import pytest

WHEEL = Path(__file__).resolve().parents[2] / ".cache" / "mmdet" / "mmdet-2.28.2-py3-none-any.whl"


class _SerialPool:
    def __init__(self, *args, **kwargs):
        pass

    def starmap(self, fn, args):
        return list(itertools.starmap(fn, args))

    def close(self):
        pass


class _Table:
    def __init__(self, data):
        self.table = ""


def _load(zf, name, extra):
    src = zf.read(f"mmdet/core/evaluation/{name}.py").decode()
    src = re.sub(r"^(from \.|import mmcv|from mmcv|from terminaltables|from multiprocessing).*$",
                 "", src, flags=re.M)
    ns = {"__name__": f"mmdet_v2_{name}", "print_log": lambda *a, **k: None,
          "AsciiTable": _Table, "Pool": _SerialPool,
          "mmcv": types.SimpleNamespace(is_str=lambda x: isinstance(x, str))}
    ns.update(extra)
    exec(compile(src, f"mmdet/core/evaluation/{name}.py", "exec"), ns)
    return ns


@pytest.fixture(scope="session")
def mmdet_v2_eval():
    """Namespace with v2's ``bbox_overlaps``, ``eval_map``, ``average_precision``,
    ``tpfp_default`` and ``eval_recalls`` (skips when the wheel is not downloaded)."""
    if not WHEEL.exists():
        pytest.skip(f"{WHEEL} is missing (make test downloads it)")
    from detbox.evaluation.class_names import get_classes

    with zipfile.ZipFile(WHEEL) as zf:
        ov = _load(zf, "bbox_overlaps", {})
        extra = {"bbox_overlaps": ov["bbox_overlaps"], "get_classes": get_classes}
        mean_ap = _load(zf, "mean_ap", extra)
        recall = _load(zf, "recall", extra)
    return types.SimpleNamespace(
        bbox_overlaps=ov["bbox_overlaps"], eval_map=mean_ap["eval_map"],
        average_precision=mean_ap["average_precision"], tpfp_default=mean_ap["tpfp_default"],
        eval_recalls=recall["eval_recalls"])
