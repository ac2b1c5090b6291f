"""Plot curves from training JSON logs, or compute the average iteration time.

    python tools/analysis_tools/analyze_logs.py plot_curve work_dirs/x/20240101_000000.log.json \
        --keys loss_cls loss_bbox --legend loss_cls loss_bbox --out losses.png
    python tools/analysis_tools/analyze_logs.py plot_curve LOG1.log.json LOG2.log.json \
        --keys bbox_mAP --legend run1 run2 --out map.png
    python tools/analysis_tools/analyze_logs.py cal_train_time LOG.log.json
"""

import argparse
import sys

from detbox.apis.runtime import UsageError, run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Analyze JSON training logs")
    subparsers = parser.add_subparsers(dest="task", help="task parser")
    plot = subparsers.add_parser("plot_curve", help="plot loss or metric curves")
    plot.add_argument("json_logs", nargs="+", help="training logs in JSON format")
    plot.add_argument("--keys", nargs="+", default=["bbox_mAP"],
                      help="the metrics or losses to plot")
    plot.add_argument("--start-epoch", type=int, default=1, help="the first epoch to plot")
    plot.add_argument("--eval-interval", type=int, default=1,
                      help="(accepted for compatibility; evaluations are found in the log)")
    plot.add_argument("--title", help="title of the figure")
    plot.add_argument("--legend", nargs="+", default=None,
                      help="one legend label per (log, key)")
    plot.add_argument("--backend", default=None, help="matplotlib backend")
    plot.add_argument("--style", default="dark", help="(accepted for compatibility)")
    plot.add_argument("--out", default=None, help="save the figure (e.g. curve.png)")
    time = subparsers.add_parser("cal_train_time",
                                 help="average time per training iteration")
    time.add_argument("json_logs", nargs="+", help="training logs in JSON format")
    time.add_argument("--include-outliers", action="store_true",
                      help="include the first iteration of every epoch in the average")
    args = parser.parse_args(argv)
    if args.task is None:
        parser.error("choose a task: plot_curve or cal_train_time")
    for log in args.json_logs:
        if not log.endswith(".json"):
            raise UsageError(f"{log} is not a .json log (use the <timestamp>.log.json file)")
    return args


def main(argv=None):
    args = parse_args(argv)
    from detbox.apis.log_analysis import plot_curve, train_time_stats

    if args.task == "plot_curve":
        plot_curve(args.json_logs, args.keys, out=args.out, title=args.title,
                   legend=args.legend, backend=args.backend, start_epoch=args.start_epoch)
        if args.out:
            print(f"save curve to: {args.out}")
        return
    for log in args.json_logs:
        stats = train_time_stats(log, args.include_outliers)
        means = stats["epoch_mean"]
        print(f"-----Analyze train time of {log}-----")
        print(f"slowest epoch {stats['slowest_epoch']}, average time is "
              f"{means[stats['slowest_epoch']]:.4f}")
        print(f"fastest epoch {stats['fastest_epoch']}, average time is "
              f"{means[stats['fastest_epoch']]:.4f}")
        print(f"time std over epochs is {stats['std_over_epochs']:.4f}")
        print(f"average iter time: {stats['mean_iter_time']:.4f} s/iter")
        print()


if __name__ == "__main__":
    sys.exit(run_tool(main))
