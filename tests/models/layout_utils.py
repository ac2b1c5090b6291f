"""Compare a detbox model's state_dict with a manifest recorded from real MMDetection.

Manifests are ``tests/data/mmdet_layouts/<family>.json.gz`` (``make_manifests.py`` there):
per MMDetection config, the sorted ``[name, shape]`` pairs of its model's state_dict.
"""

from __future__ import annotations

import gzip
import json
from functools import cache

import torch

from detbox.config import Config
from detbox.models.builder import build_detector
from tests.conftest import DATA, REPO

LAYOUTS = DATA / "mmdet_layouts"


@cache
def load_manifests(family: str) -> dict:
    """``{config path under configs/: {"keys": [[name, shape], ...]} or {"error": ...}}``."""
    with gzip.open(LAYOUTS / f"{family}.json.gz", "rt") as fh:
        return json.load(fh)


def layout_diff(state_dict: dict, expected_keys: list) -> list[str]:
    """Human-readable differences between a state_dict and a manifest's key list."""
    ours = {k: list(v.shape) for k, v in state_dict.items()}
    theirs = {k: shape for k, shape in expected_keys}
    problems = [f"missing {k} {s}" for k, s in theirs.items() if k not in ours]
    problems += [f"unexpected {k} {s}" for k, s in ours.items() if k not in theirs]
    problems += [f"shape of {k}: ours {ours[k]} vs {theirs[k]}"
                 for k in ours.keys() & theirs.keys() if ours[k] != theirs[k]]
    return sorted(problems)


def build_config_model(rel: str, meta: bool = True, options: dict | None = None):
    """Build ``configs/<rel>`` (our copy of MMDetection's file) without pretrained weights.

    ``meta=True`` allocates parameters on the meta device (shapes only, fast for Swin-L).
    ``options``: ``--cfg-options``-style overrides (``{"model.teacher_ckpt": None}``)."""
    cfg = Config.fromfile(REPO / "configs" / rel)
    if options:
        cfg.merge_from_dict(options)
    if meta:
        with torch.device("meta"):
            return build_detector(cfg.model)
    return build_detector(cfg.model)


def assert_same_layout(model, expected: dict, label: str = "") -> None:
    """Assert ``model.state_dict()`` has exactly the manifest's names and shapes."""
    problems = layout_diff(model.state_dict(), expected["keys"])
    if problems:
        shown = "\n  ".join(problems[:40])
        more = f"\n  ... and {len(problems) - 40} more" if len(problems) > 40 else ""
        raise AssertionError(f"{label}: state_dict differs from MMDetection's "
                             f"({len(problems)} differences):\n  {shown}{more}")
