"""Config validation: typos are errors that name the fix; helper variables stay legal."""

import pytest

from detbox.config import Config
from detbox.config.validate import ConfigValidationError, validate_config
from detbox.suggest import edit_distance


def test_misspelt_data_key_names_the_fix(config_dir):
    cfg = Config.fromfile(config_dir / "typos/sampels.py")
    with pytest.raises(ConfigValidationError,
                       match=r"'data.sampels_per_gpu'.*did you mean 'samples_per_gpu'"):
        validate_config(cfg)


def test_near_miss_top_level_key_names_the_fix(config_dir):
    cfg = Config.fromfile(config_dir / "typos/lr_cofig.py")
    with pytest.raises(ConfigValidationError, match=r"'lr_cofig'.*did you mean 'lr_config'"):
        validate_config(cfg)


def test_all_problems_are_listed_at_once(config_dir):
    cfg = Config.fromfile(config_dir / "typos/momentum.py")
    with pytest.raises(ConfigValidationError) as info:
        validate_config(cfg)
    message = str(info.value)
    assert "'optimizer.momentun'" in message and "did you mean 'momentum'" in message
    assert "'lr_config.stpe'" in message and "did you mean 'step'" in message
    assert "momentum.py" in message


def test_helper_variables_stay_legal(config_dir):
    validate_config(Config.fromfile(config_dir / "typos/helpers_ok.py"))


def test_policy_specific_keys():
    validate_config({"lr_config": dict(policy="CosineAnnealing", min_lr_ratio=1e-3,
                                       warmup="linear", warmup_iters=10)})
    with pytest.raises(ConfigValidationError, match="'lr_config.step'"):
        validate_config({"lr_config": dict(policy="CosineAnnealing", step=[8])})
    # an unknown policy is left to the engine, which names it
    validate_config({"lr_config": dict(policy="MyOwn", anything=1)})


def test_section_checks_cover_sub_sections():
    with pytest.raises(ConfigValidationError, match="'optimizer_config.grad_clip.max_nrom'"):
        validate_config({"optimizer_config": dict(grad_clip=dict(max_nrom=35))})
    with pytest.raises(ConfigValidationError, match="'optimizer.paramwise_cfg.bias_lr_mul'"):
        validate_config({"optimizer": dict(type="SGD", lr=0.1,
                                           paramwise_cfg=dict(bias_lr_mul=2.0))})
    with pytest.raises(ConfigValidationError, match="did you mean 'max_keep_ckpts'"):
        validate_config({"checkpoint_config": dict(interval=1, max_keep_ckpt=3)})
    with pytest.raises(ConfigValidationError, match="did you mean 'save_best'"):
        validate_config({"evaluation": dict(interval=1, metric="bbox", savebest="auto")})


@pytest.mark.parametrize("a, b, d", [("lr_cofig", "lr_config", 1), ("abc", "acb", 1),
                                     ("", "abc", 3), ("kitten", "sitting", 3)])
def test_edit_distance(a, b, d):
    assert edit_distance(a, b) == d
