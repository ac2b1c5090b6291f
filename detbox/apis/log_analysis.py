"""Reading training JSON logs (``<timestamp>.log.json``): curves and iteration times.

A JSON log holds one object per line: the run's meta first (no ``mode`` key), then every
logged training iteration (``mode='train'``, with ``epoch``, ``iter``, ``lr``, ``time``, the
losses) and every evaluation (``mode='val'``, with the metrics such as ``bbox_mAP``).
``tools/analysis_tools/analyze_logs.py`` is the command line for these functions.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from typing import Sequence

import numpy as np

from .runtime import UsageError

__all__ = ["load_entries", "plot_curve", "train_time_stats"]

logger = logging.getLogger(__name__)


def load_entries(path: str) -> list[dict]:
    """The train/val entries of a JSON log, in file order (each a dict with ``epoch``).

    The meta line and other lines without ``mode`` and ``epoch`` are skipped.
    """
    out = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{number} is not a JSON line: {err}") from None
            if isinstance(entry, dict) and "mode" in entry and "epoch" in entry:
                out.append(entry)
    return out


def plot_curve(json_logs: Sequence[str], keys: Sequence[str], out: str | None = None,
               title: str | None = None, legend: Sequence[str] | None = None,
               backend: str | None = None, start_epoch: int = 1) -> str | None:
    """Plot ``keys`` of each log: metrics (keys with ``mAP`` or of val entries) by epoch,
    losses and the like by iteration.

    Args:
        json_logs: the ``.log.json`` files.
        keys: what to plot, e.g. ``['loss_cls', 'loss_bbox']`` or ``['bbox_mAP']``.
        out: write the figure here (PNG, PDF... by extension, with the Agg backend);
            ``None`` shows it.
        title: the figure title.
        legend: one label per (log, key), in that order; ``<log>_<key>`` by default.
        backend: a matplotlib backend to use.
        start_epoch: leave out entries of earlier epochs.

    Returns:
        ``out``.

    Raises:
        UsageError: a key that no entry of a log has (naming the keys it has), or a legend
            of the wrong length.
    """
    import matplotlib

    if backend is not None:
        matplotlib.use(backend)
    elif out is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if legend is None:
        legend = [f"{log}_{key}" for log in json_logs for key in keys]
    if len(legend) != len(json_logs) * len(keys):
        raise UsageError(f"--legend needs {len(json_logs) * len(keys)} labels (one per log and "
                         f"key), got {len(legend)}")
    fig, axes = plt.subplots()
    for i, path in enumerate(json_logs):
        entries = [e for e in load_entries(path) if e["epoch"] >= start_epoch]
        if not entries:
            raise UsageError(f"{path} has no entries from epoch {start_epoch} on")
        iters_per_epoch = max([e["iter"] for e in entries if e["mode"] == "train"
                               and e["epoch"] == entries[0]["epoch"]], default=1)
        for j, key in enumerate(keys):
            label = legend[i * len(keys) + j]
            val = [e for e in entries if e["mode"] == "val" and key in e]
            train = [e for e in entries if e["mode"] == "train" and key in e]
            if "mAP" in key or (val and not train):
                if not val:
                    raise UsageError(f"{path} has no evaluation entry with {key!r} (was the run "
                                   f"trained with --no-validate?); {_known_keys(entries)}")
                axes.plot([e["epoch"] for e in val], [e[key] for e in val], label=label,
                          marker="o")
                axes.set_xlabel("epoch")
            else:
                if not train:
                    raise UsageError(f"{path} has no training entry with {key!r}; "
                                   f"{_known_keys(entries)}")
                xs = [(e["epoch"] - 1) * iters_per_epoch + e["iter"] for e in train]
                axes.plot(xs, [e[key] for e in train], label=label, linewidth=0.8)
                axes.set_xlabel("iter")
            logger.info("plot curve of %s, metric is %s", path, key)
    axes.legend()
    if title is not None:
        axes.set_title(title)
    if out is None:
        plt.show()
    else:
        fig.savefig(out)
    plt.close(fig)
    return out


def _known_keys(entries: list[dict]) -> str:
    keys = sorted({k for e in entries for k in e} - {"mode", "epoch", "iter"})
    return f"its keys: {', '.join(keys)}"


def train_time_stats(json_log: str, include_outliers: bool = False) -> dict:
    """Average time per training iteration, per epoch and overall.

    The first logged iteration of each epoch (data loader start-up) is left out unless
    ``include_outliers``.

    Returns:
        ``dict(epoch_mean={epoch: s}, slowest_epoch, fastest_epoch, std_over_epochs,
        mean_iter_time)``.
    """
    per_epoch: dict[int, list[float]] = defaultdict(list)
    for entry in load_entries(json_log):
        if entry["mode"] == "train" and "time" in entry:
            per_epoch[entry["epoch"]].append(float(entry["time"]))
    if not include_outliers:
        per_epoch = defaultdict(list, {e: t[1:] for e, t in per_epoch.items()})
    per_epoch = {e: t for e, t in per_epoch.items() if t}
    if not per_epoch:
        raise UsageError(f"{json_log} has no training iteration times to average (reduce "
                       f"log_config.interval below the iterations of one epoch)")
    means = {e: float(np.mean(t)) for e, t in sorted(per_epoch.items())}
    slowest = max(means, key=means.get)
    fastest = min(means, key=means.get)
    all_times = [t for times in per_epoch.values() for t in times]
    return dict(epoch_mean=means, slowest_epoch=slowest, fastest_epoch=fastest,
                std_over_epochs=float(np.std(list(means.values()))),
                mean_iter_time=float(np.mean(all_times)))
