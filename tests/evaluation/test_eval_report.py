import logging

import pytest

from detbox.evaluation import format_table, get_classes, print_log


def test_format_table_pads_short_rows_and_none():
    text = format_table([["category", "AP", "category", "AP"], ["a", "0.500", "bb", None],
                         ["ccc", "1.000"]])
    assert text.splitlines() == [
        "+----------+-------+----------+----+",
        "| category | AP    | category | AP |",
        "+----------+-------+----------+----+",
        "| a        | 0.500 | bb       |    |",
        "| ccc      | 1.000 |          |    |",
        "+----------+-------+----------+----+",
    ]
    assert format_table([]) == ""
    assert format_table([["only", "header"]]).count("\n") == 2


def test_print_log_targets(caplog):
    named = logging.getLogger("somewhere")
    with caplog.at_level(logging.INFO):
        print_log("to default")
        print_log("to named", logger=named, level=logging.WARNING)
        print_log("by name", logger="by.name")
        print_log("dropped", logger="silent")
    got = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert got == [("detbox.evaluation", logging.INFO, "to default"),
                   ("somewhere", logging.WARNING, "to named"),
                   ("by.name", logging.INFO, "by name")]
    with pytest.raises(TypeError, match="logger must be"):
        print_log("x", logger=3)


def test_get_classes():
    assert get_classes("voc07") == get_classes("pascal_voc")
    assert len(get_classes("voc")) == 20 and get_classes("coco")[9] == "traffic_light"
    with pytest.raises(ValueError, match="unrecognized dataset 'imagenet_det'"):
        get_classes("imagenet_det")
