"""Config loading: one fixture folder per rule under tests/data/configs/."""

import os
import sys
import warnings

import pytest

from detbox.config import Config, ConfigDict


def load(config_dir, rel, **kwargs):
    return Config.fromfile(config_dir / rel, **kwargs)


def test_base_as_string_merges_dicts_and_replaces_others(config_dir):
    cfg = load(config_dir, "base_str/child.py")
    assert cfg.model.backbone == {"type": "ResNet", "depth": 101, "frozen_stages": 1}
    assert cfg.model.neck.num_outs == 5
    assert cfg.steps == [16]  # lists replace
    assert cfg.scale == (512, 512) and isinstance(cfg.scale, tuple)  # tuples replace
    assert cfg.workflow == [("train", 1)]  # None in the base is replaced
    assert cfg.optimizer == {"type": "SGD", "lr": 0.01, "momentum": 0.9}
    assert "_base_" not in cfg


def test_base_list_is_merged_in_order_then_child(config_dir):
    cfg = load(config_dir, "base_list/child.py")
    assert cfg.model.num_classes == 80
    assert cfg.runner == {"type": "EpochBasedRunner", "max_epochs": 24}
    assert list(cfg.keys()) == ["model", "optimizer", "runner"]


def test_bases_are_recursive_and_relative_to_the_file_naming_them(config_dir):
    cfg = load(config_dir, "nested/child.py")
    assert cfg.a == {"x": 10, "y": {"z": 2, "w": 3}}
    assert cfg.origin == "middle"
    assert "sub/base.py" in cfg.text and "nested/child.py" in cfg.text


def test_delete_replaces_the_base_value(config_dir):
    cfg = load(config_dir, "delete/child.py")
    assert cfg.optimizer == {"type": "AdamW", "lr": 0.0001}
    assert cfg.model.neck == {"type": "FPN", "in_channels": [64, 128], "out_channels": 256}


def test_delete_on_a_key_the_base_lacks_is_kept_as_mmcv_does(config_dir):
    cfg = load(config_dir, "delete/child.py")
    assert cfg.model.extra == {"_delete_": True, "type": "Thing"}


def test_duplicate_keys_among_bases_raise(config_dir):
    with pytest.raises(KeyError, match="Duplicate key is not allowed among bases.*lr"):
        load(config_dir, "dup_bases/child.py")


def test_child_dict_over_non_dict_base_raises_type_error_naming_delete(config_dir):
    with pytest.raises(TypeError, match="_delete_=True"):
        load(config_dir, "type_error/child.py")
    assert load(config_dir, "type_error/child_delete.py").grad_clip == {"max_norm": 35}


def test_module_level_names_become_keys_but_modules_and_functions_do_not(config_dir):
    cfg = load(config_dir, "names/names.py")
    assert set(cfg.keys()) == {"img_norm_cfg", "train_pipeline", "data", "doubled", "_private",
                               "sep", "circle", "pi"}
    assert cfg.data.train.pipeline[0].mean == [123.675, 116.28, 103.53]
    assert cfg.doubled == 42 and cfg.circle == 3.14


def test_reserved_keys_are_rejected(config_dir):
    with pytest.raises(KeyError, match="filename is reserved"):
        load(config_dir, "names/reserved.py")


def test_predefined_variables(config_dir):
    cfg = load(config_dir, "predefined/vars.py")
    assert cfg.work_dir == "./work_dirs/vars"
    assert cfg.here == str(config_dir / "predefined").replace("\\", "/")
    assert (cfg.name, cfg.ext) == ("vars.py", ".py")
    assert load(config_dir, "predefined/vars.py", use_predefined_variables=False).name == (
        "{{ fileBasename }}")


def test_base_references_take_whole_values(config_dir):
    cfg = load(config_dir, "base_ref/child.py")
    assert cfg.norm == {"mean": [1, 2, 3], "std": [4, 5, 6], "to_rgb": True}
    assert cfg.num_classes == 80
    assert cfg.pipeline == [{"type": "Normalize", "mean": [1, 2, 3]}]


def test_deprecation_warns_with_the_replacement(config_dir):
    with pytest.warns(DeprecationWarning, match="Please use new.py instead"):
        cfg = load(config_dir, "deprecation/old.py")
    assert cfg.value == 1 and "_deprecation_" not in cfg


def test_dollar_references_are_substituted(config_dir):
    cfg = load(config_dir, "refs/refs.py")
    assert cfg.data.train.ann_file == "data/shapes/annotations/train.json"
    assert cfg.data.train.classes == ("circle", "square")
    assert cfg.work_dir == "data/shapes/annotations/train.json.out"


def test_dollar_reference_to_missing_key_names_it(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("a = '${nope.x}'\n")
    with pytest.raises(KeyError, match="nope"):
        Config.fromfile(path)


def test_custom_imports_are_imported_after_merging(config_dir):
    sys.modules.pop("my_modules.marker", None)
    sys.modules.pop("my_modules", None)
    try:
        cfg = load(config_dir, "custom_imports/child.py")
        assert cfg.custom_imports.imports == ["my_modules.marker"]
        assert sys.modules["my_modules.marker"].IMPORTED is True
    finally:  # other tests import their own package of this name
        sys.modules.pop("my_modules.marker", None)
        sys.modules.pop("my_modules", None)
    cfg = load(config_dir, "custom_imports/missing.py", import_custom_modules=False)
    assert cfg.custom_imports.imports == ["no_such_module_xyz"]


def test_failed_custom_import_is_an_error_unless_allowed(config_dir):
    with pytest.raises(ImportError, match="no_such_module_xyz"):
        load(config_dir, "custom_imports/missing.py")
    with pytest.warns(UserWarning, match="no_such_module_xyz"):
        load(config_dir, "custom_imports/missing_allowed.py")


def test_yaml_and_json_inherit_from_python(config_dir):
    cfg = load(config_dir, "yaml_json/child.yaml")
    assert cfg.model == {"type": "RetinaNet", "depth": 101} and cfg.lr == 0.02
    cfg = load(config_dir, "yaml_json/child.json")
    assert cfg.model == {"type": "FCOS", "depth": 101} and cfg.extra == [1, 2]


def test_errors_name_the_file(config_dir, tmp_path):
    with pytest.raises(SyntaxError, match="syntax_error.py"):
        load(config_dir, "syntax_error.py")
    with pytest.raises(RecursionError, match="cycle"):
        load(config_dir, "cycle/a.py")
    child = tmp_path / "child.py"
    child.write_text("_base_ = './missing_base.py'\n")
    with pytest.raises(FileNotFoundError, match="missing_base.py.*a _base_ of .*child.py"):
        Config.fromfile(child)
    bad = tmp_path / "cfg.txt"
    bad.write_text("a = 1\n")
    with pytest.raises(OSError, match="py/yml/yaml/json"):
        Config.fromfile(bad)


def test_config_dict_attribute_access_and_missing_key(config_dir):
    cfg = load(config_dir, "base_str/child.py")
    assert isinstance(cfg.model, ConfigDict)
    cfg.model.backbone.depth = 18
    assert cfg["model"]["backbone"]["depth"] == 18
    with pytest.raises(AttributeError, match="'nek'.*did you mean 'neck'"):
        _ = cfg.model.nek
    with pytest.raises(AttributeError, match="modle"):
        _ = cfg.modle
    assert "nek" not in cfg.model  # reading a missing key never creates it
    assert not hasattr(cfg.model, "nek")
    assert cfg.get("nothing", 3) == 3


def test_config_dict_converts_nested_values_and_pickles():
    import copy
    import pickle

    d = ConfigDict(a=[dict(b=1), (dict(c=2),)])
    assert isinstance(d.a[0], ConfigDict) and isinstance(d.a[1][0], ConfigDict)
    d.x = dict(y=dict(z=1))
    assert d.x.y.z == 1
    assert pickle.loads(pickle.dumps(d)) == d
    deep = copy.deepcopy(d)
    deep.x.y.z = 5
    assert d.x.y.z == 1 and isinstance(deep, ConfigDict)
    assert type(d.to_dict()["x"]) is dict


@pytest.mark.parametrize("ext", [".py", ".json", ".yaml"])
def test_dump_reloads_to_an_equal_config(config_dir, tmp_path, ext):
    cfg = load(config_dir, "base_str/child.py")
    out = tmp_path / f"dumped{ext}"
    cfg.dump(out)
    again = Config.fromfile(out)
    if ext == ".py":
        assert again.to_dict() == cfg.to_dict()  # tuples survive a .py dump
    else:
        assert again.model == cfg.model and list(again.scale) == list(cfg.scale)


def test_pretty_text_of_the_seed_config_is_valid_python_and_reloads(tmp_path):
    from tests.conftest import REPO

    cfg = Config.fromfile(REPO / "configs/cascade_rcnn/cascade_rcnn_r50_fpn_1x_coco.py")
    text = cfg.pretty_text
    assert max(len(line) for line in text.splitlines()) <= 100
    out = tmp_path / "again.py"
    out.write_text(text)
    assert Config.fromfile(out) == cfg


def test_pickled_config_keeps_filename_and_text(config_dir):
    import pickle

    cfg = load(config_dir, "base_list/child.py")
    again = pickle.loads(pickle.dumps(cfg))
    assert again == cfg and again.filename == cfg.filename and again.text == cfg.text


def test_fromstring(config_dir):
    cfg = Config.fromstring("a = dict(b=1)\n", ".py")
    assert cfg.a.b == 1
    assert Config.fromstring("a:\n  b: 2\n", ".yaml").a.b == 2


def test_no_warning_for_plain_files(config_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(config_dir, "base_str/child.py")
    assert os.path.isabs(load(config_dir, "base_str/child.py").text.splitlines()[0])
