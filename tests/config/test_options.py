"""--cfg-options: mmcv 1.x value parsing and merging into a loaded config."""

import argparse

import pytest

from detbox.config import Config, DictAction, parse_cfg_options, parse_value


@pytest.mark.parametrize(
    "text, value",
    [
        ("1", 1), ("-3", -3), ("0.5", 0.5), ("1e-4", 1e-4), ("True", True), ("false", False),
        ("None", None), ("none", "none"), ("abc", "abc"), ("a,b", ["a", "b"]),
        ("[1,2,3]", [1, 2, 3]), ("(1,2)", (1, 2)), ("[(1,2),(3,4)]", [(1, 2), (3, 4)]),
        ("[1,[2,(3,4)]]", [1, [2, (3, 4)]]), ("'[1, 2]'", [1, 2]), ("[]", []), ("()", ()),
        ("(1333,800)", (1333, 800)),
    ],
)
def test_parse_value(text, value):
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_imbalanced_brackets_are_an_error():
    with pytest.raises(ValueError, match="Imbalanced brackets"):
        parse_value("[1,(2,3]")


def test_dict_action_in_argparse():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cfg-options", nargs="+", action=DictAction)
    args = parser.parse_args(["--cfg-options", "a.b=1", "c=[1,2]", "d=x,y"])
    assert args.cfg_options == {"a.b": 1, "c": [1, 2], "d": ["x", "y"]}
    with pytest.raises(SystemExit):
        parser.parse_args(["--cfg-options", "novalue"])


def test_merge_options_into_config(config_dir):
    cfg = Config.fromfile(config_dir / "names/names.py")
    cfg.merge_from_dict(parse_cfg_options([
        "data.train.pipeline.0.type=Normalize2", "data.samples_per_gpu=4",
        "img_norm_cfg.to_rgb=False", "new.key=(1,2)",
    ]))
    assert cfg.data.train.pipeline[0].type == "Normalize2"
    assert cfg.data.train.pipeline[0].std == [58.395, 57.12, 57.375]
    assert cfg.data.samples_per_gpu == 4
    assert cfg.img_norm_cfg.to_rgb is False
    assert cfg.new.key == (1, 2)


def test_list_index_out_of_range_is_an_error(config_dir):
    cfg = Config.fromfile(config_dir / "names/names.py")
    with pytest.raises(KeyError, match="Index 3 exceeds the length of list"):
        cfg.merge_from_dict({"data.train.pipeline.3.type": "X"})
