"""Registries: registration, building, and errors that name the registry and the fix."""

import pytest

from detbox.registry import (
    MODELS,
    ConfigArgumentError,
    Registry,
    UnknownTypeError,
    build_from_cfg,
    check_components,
)


@pytest.fixture
def reg():
    registry = Registry("TOYS")

    @registry.register_module()
    class Base:
        def __init__(self, depth: int, width: int = 2, init_cfg=None):
            self.depth, self.width = depth, width

    @registry.register_module(name=["Child", "ChildAlias"])
    class Child(Base):
        def __init__(self, extra: str = "x", **kwargs):
            super().__init__(**kwargs)
            self.extra = extra

    @registry.register_module()
    class Loose:
        _accepts_any_kwargs = True

        def __init__(self, **kwargs):
            self.kwargs = kwargs

    return registry


def test_build_by_name_and_by_class(reg):
    obj = reg.build(dict(type="Base", depth=50))
    assert (obj.depth, obj.width) == (50, 2)
    assert build_from_cfg(dict(type=reg.get("Base"), depth=1), reg).depth == 1
    assert reg.build(dict(type="ChildAlias", depth=3, extra="y")).extra == "y"
    assert reg.build(dict(type="Base"), default_args=dict(depth=7, width=1)).width == 1
    assert reg.build(dict(type="Base", width=3), default_args=dict(width=1, depth=0)).width == 3


def test_unknown_type_names_registry_close_matches_and_custom_imports(reg):
    with pytest.raises(UnknownTypeError) as info:
        reg.build(dict(type="Bas", depth=1))
    message = str(info.value)
    assert "'Bas' is not in the TOYS registry" in message
    assert "did you mean 'Base'" in message and "custom_imports" in message
    assert isinstance(info.value, KeyError)


def test_duplicate_names_are_errors_unless_forced(reg):
    with pytest.raises(KeyError, match="already registered in TOYS"):
        reg.register_module(name="Base", module=lambda: None)
    replacement = reg.register_module(name="Base", force=True, module=dict)
    assert reg.get("Base") is replacement is dict


def test_unexpected_argument_is_named_with_did_you_mean(reg):
    with pytest.raises(ConfigArgumentError, match=r"Base got unexpected argument\(s\) "
                                                  r"'dpth' \(did you mean 'depth'\?\)"):
        reg.build(dict(type="Base", dpth=50))


def test_kwargs_forwarded_to_base_classes_are_checked(reg):
    with pytest.raises(ConfigArgumentError, match="did you mean 'width'"):
        reg.build(dict(type="Child", depth=1, widht=3))
    assert reg.build(dict(type="Loose", whatever=1)).kwargs == {"whatever": 1}


def test_missing_required_argument_is_named(reg):
    with pytest.raises(ConfigArgumentError, match="missing required argument.*depth"):
        reg.build(dict(type="Base"))


def test_missing_type_and_non_dict(reg):
    with pytest.raises(KeyError, match="must have the key 'type'"):
        reg.build(dict(depth=1))
    with pytest.raises(TypeError, match="cfg must be a dict"):
        reg.build(["Base"])


def test_errors_raised_inside_a_constructor_name_the_class():
    registry = Registry("X")

    @registry.register_module()
    class Picky:
        def __init__(self, n: int = 1):
            if n < 0:
                raise ValueError("n must be >= 0")

    with pytest.raises(ValueError, match="Picky: n must be >= 0"):
        registry.build(dict(type="Picky", n=-1))


def test_check_components_reports_the_config_path(reg):
    cfg = dict(model=dict(type="Loose", parts=[dict(type="Child", depth=2),
                                               dict(type="Child", dept=2)]))
    with pytest.raises(ConfigArgumentError, match=r"at 'model.parts.1'.*did you mean 'depth'"):
        check_components(cfg, "", [reg])
    check_components(dict(type="Unregistered", anything=1), "x", [reg])  # left to the builder


def test_models_namespace_is_shared():
    from detbox import registry

    assert registry.BACKBONES is registry.NECKS is registry.HEADS is registry.DETECTORS is MODELS
