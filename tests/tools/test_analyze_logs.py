"""``detbox.apis.log_analysis`` (behind tools/analysis_tools/analyze_logs.py) on a hand-written
JSON log."""

from __future__ import annotations

import json

import matplotlib
import pytest

from detbox.apis.log_analysis import load_entries, plot_curve, train_time_stats
from detbox.apis.runtime import UsageError

matplotlib.use("Agg")


@pytest.fixture
def log(tmp_path):
    rows = [dict(env_info="...", config="...", seed=0)]  # the meta line
    times = {1: [9.0, 1.0, 2.0, 3.0], 2: [8.0, 2.0, 2.0, 2.0]}
    for epoch in (1, 2):
        for i, t in enumerate(times[epoch], 1):
            rows.append(dict(mode="train", epoch=epoch, iter=i, lr=0.02, time=t,
                             data_time=0.1, loss_cls=1.0 / (4 * (epoch - 1) + i), loss=2.0))
        rows.append(dict(mode="val", epoch=epoch, iter=2, lr=0.02, bbox_mAP=0.1 * epoch))
    path = tmp_path / "20240101_000000.log.json"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_entries_skip_the_meta_line(log):
    entries = load_entries(str(log))
    assert len(entries) == 10 and entries[0]["iter"] == 1
    assert [e["bbox_mAP"] for e in entries if e["mode"] == "val"] == [0.1, 0.2]


def test_train_time_leaves_out_each_epochs_first_iteration(log):
    stats = train_time_stats(str(log))
    assert stats["epoch_mean"] == {1: 2.0, 2: 2.0}
    assert stats["mean_iter_time"] == pytest.approx(2.0)
    with_first = train_time_stats(str(log), include_outliers=True)
    assert with_first["epoch_mean"] == {1: 3.75, 2: 3.5}
    assert with_first["slowest_epoch"] == 1 and with_first["fastest_epoch"] == 2
    assert with_first["std_over_epochs"] == pytest.approx(0.125)


def test_plot_curve_writes_a_png_of_losses_by_iteration_and_map_by_epoch(log, tmp_path,
                                                                         monkeypatch):
    import matplotlib.axes

    plotted = []
    original = matplotlib.axes.Axes.plot

    def record(self, xs, ys, *args, **kwargs):
        plotted.append((list(xs), list(ys), kwargs.get("label")))
        return original(self, xs, ys, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", record)
    out = tmp_path / "curves.png"
    plot_curve([str(log)], ["loss_cls", "bbox_mAP"], out=str(out), legend=["cls", "map"])
    assert out.read_bytes()[:4] == b"\x89PNG"
    (xs, ys, label), (mxs, mys, mlabel) = plotted
    assert xs == list(range(1, 9)) and ys == pytest.approx([1 / i for i in range(1, 9)])
    assert label == "cls"
    assert (mxs, mys, mlabel) == ([1, 2], [0.1, 0.2], "map")


def test_plot_curve_names_the_keys_a_log_has(log, tmp_path):
    with pytest.raises(UsageError, match="no evaluation entry with 'segm_mAP'.*bbox_mAP"):
        plot_curve([str(log)], ["segm_mAP"], out=str(tmp_path / "x.png"))
    with pytest.raises(UsageError, match="no training entry with 'loss_mask'"):
        plot_curve([str(log)], ["loss_mask"], out=str(tmp_path / "x.png"))
    with pytest.raises(UsageError, match="needs 2 labels"):
        plot_curve([str(log)], ["loss_cls", "loss"], out=str(tmp_path / "x.png"),
                   legend=["one"])
