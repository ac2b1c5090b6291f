"""Every registry of detbox, in one place, and the one way to build from a config dict.

A registry maps a ``type`` name to a class (or function). As in MMDetection v2, backbones,
necks, heads, losses and detectors share the ``MODELS`` namespace.

>>> REG = Registry('demo')
>>> @REG.register_module()
... class Box:
...     def __init__(self, size: int = 1):
...         self.size = size
>>> REG.build(dict(type='Box', size=3)).size
3
>>> REG.build(dict(type='Bx'))
Traceback (most recent call last):
...
detbox.registry.UnknownTypeError: 'Bx' is not in the demo registry; did you mean 'Box'? ...
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable

from .suggest import close_matches

__all__ = [
    "Registry", "build_from_cfg", "UnknownTypeError", "ConfigArgumentError", "check_args",
    "check_components", "MODELS", "BACKBONES", "NECKS", "HEADS", "LOSSES", "DETECTORS",
    "SHARED_HEADS", "ROI_EXTRACTORS", "DATASETS", "PIPELINES", "TRANSFORMS", "TASK_UTILS",
    "HOOKS", "OPTIMIZERS", "OPTIMIZER_BUILDERS", "RUNNERS", "LAYERS", "ALL_REGISTRIES",
]


class UnknownTypeError(KeyError):
    """A ``type`` that no class is registered under."""

    def __str__(self) -> str:
        return str(self.args[0])


class ConfigArgumentError(TypeError):
    """A config dict passes an argument that its class does not take (or misses one)."""


_TORCH_MODULE = ("torch.nn.modules.module", "Module")


class Registry:
    """A flat name -> class table for one role.

    Args:
        name: the role, shown in errors (``'MODELS'``).
        check_args: whether config dicts of this registry are checked against the
            constructor's signature (off for layer registries whose builders rewrite keys).
    """

    def __init__(self, name: str, check_args: bool = True) -> None:
        self.name = name
        self.check_args = check_args
        self._modules: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __repr__(self) -> str:
        return f"Registry(name={self.name}, items={sorted(self._modules)})"

    @property
    def module_dict(self) -> dict[str, Any]:
        return dict(self._modules)

    def get(self, key: str) -> Any | None:
        """The class registered as ``key``, or ``None``."""
        return self._modules.get(key)

    def _register(self, module: Any, names: Iterable[str], force: bool) -> None:
        if not callable(module):
            raise TypeError(f"only classes and functions can be registered, got {module!r}")
        for name in names:
            if not force and name in self._modules and self._modules[name] is not module:
                existing = self._modules[name]
                raise KeyError(
                    f"'{name}' is already registered in {self.name} (by "
                    f"{existing.__module__}.{existing.__qualname__}); pass force=True to replace "
                    f"it (@{self.name}.register_module(force=True)) or register yours under "
                    f"another name (register_module(name='My{name}'))"
                )
            self._modules[name] = module

    def register_module(self, name: str | list[str] | None = None, force: bool = False,
                        module: Any = None) -> Callable:
        """Register a class; use as ``@REG.register_module()`` or ``REG.register_module(module=C)``.

        Args:
            name: the name (or names) to register under; the class name by default.
            force: replace an existing entry of the same name instead of raising.
            module: register this object directly instead of decorating.
        """
        if name is not None and not isinstance(name, (str, list)):
            raise TypeError(f"name must be None, a str or a list of str, got {type(name)}")

        def register(cls: Any) -> Any:
            names = [cls.__name__] if name is None else [name] if isinstance(name, str) else name
            self._register(cls, names, force)
            return cls

        return register(module) if module is not None else register

    def resolve(self, type_: Any) -> Any:
        """The class for a ``type`` value (a registered name or a class itself)."""
        if not isinstance(type_, str):
            if callable(type_):
                return type_
            raise TypeError(f"type must be a str or a class, got {type(type_).__name__}: {type_!r}")
        cls = self._modules.get(type_)
        if cls is None:
            close = close_matches(type_, self._modules)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "."
            raise UnknownTypeError(
                f"'{type_}' is not in the {self.name} registry{hint} If it is your own module, "
                f"register it and import it with custom_imports=dict(imports=['your.module']) "
                f"in the config."
            )
        return cls

    def build(self, cfg: dict, default_args: dict | None = None) -> Any:
        """Build an object from ``cfg`` (see :func:`build_from_cfg`)."""
        return build_from_cfg(cfg, self, default_args)


def accepted_args(cls: Any) -> tuple[set[str], set[str], bool]:
    """Argument names a class's constructor takes: (all, required, takes-any-keyword).

    ``**kwargs`` forwarded to base classes is followed up the MRO, so a typo in an
    argument that only a base class takes is still caught.
    """
    names: set[str] = set()
    required: set[str] = set()
    targets = cls.__mro__ if inspect.isclass(cls) else (cls,)
    for klass in targets:
        if inspect.isclass(cls):
            if klass is object or (klass.__module__, klass.__qualname__) == _TORCH_MODULE:
                return names, required, False
            if "__init__" not in vars(klass):
                continue
            func = vars(klass)["__init__"]
        else:
            func = klass
        try:
            params = list(inspect.signature(func).parameters.values())
        except (TypeError, ValueError):
            return names, required, True
        if inspect.isclass(cls):
            params = params[1:]  # self
        var_kw = False
        for p in params:
            if p.kind is p.VAR_KEYWORD:
                var_kw = True
            elif p.kind is not p.VAR_POSITIONAL:
                names.add(p.name)
                if p.default is p.empty and klass is targets[0]:
                    required.add(p.name)
        if not var_kw:
            return names, required, False
        if getattr(klass, "_accepts_any_kwargs", False):
            return names, required, True
    return names, required, not inspect.isclass(cls)


def check_args(cls: Any, keys: Iterable[str], path: str = "", check_missing: bool = True) -> None:
    """Raise :class:`ConfigArgumentError` if ``keys`` are not all arguments of ``cls``.

    Args:
        cls: the class (or function) the config dict builds.
        keys: the config dict's keys other than ``type``.
        path: where the dict sits in the config (``model.rpn_head.anchor_generator``).
        check_missing: also require every argument without a default (off where a parent
            supplies some arguments itself, such as ``num_classes`` or ``train_cfg``).
    """
    names, required, any_kw = accepted_args(cls)
    keys = set(keys)
    where = f" at '{path}'" if path else ""
    label = getattr(cls, "__name__", repr(cls))
    if not any_kw:
        unknown = sorted(keys - names)
        if unknown:
            parts = []
            for key in unknown:
                close = close_matches(key, names)
                hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
                parts.append(f"'{key}'{hint}")
            raise ConfigArgumentError(
                f"{label}{where} got unexpected argument(s) {', '.join(parts)}; it takes: "
                f"{', '.join(sorted(names)) or 'no arguments'}"
            )
    missing = sorted(required - keys)
    if check_missing and missing:
        raise ConfigArgumentError(
            f"{label}{where} is missing required argument(s): {', '.join(missing)}"
        )


def build_from_cfg(cfg: dict, registry: Registry, default_args: dict | None = None) -> Any:
    """Build ``registry``'s ``cfg['type']`` with the other keys as keyword arguments.

    ``default_args`` fill keys the config does not set. ``type`` may be a name or a class.
    """
    if not isinstance(cfg, dict):
        raise TypeError(f"cfg must be a dict, but got {type(cfg).__name__}: {cfg!r}")
    if "type" not in cfg and (default_args is None or "type" not in default_args):
        raise KeyError(f"a config dict for {registry.name} must have the key 'type', got {cfg}")
    args = dict(cfg)
    for key, value in (default_args or {}).items():
        args.setdefault(key, value)
    cls = registry.resolve(args.pop("type"))
    if registry.check_args:
        check_args(cls, args)
    try:
        return cls(**args)
    except Exception as err:
        name = getattr(cls, "__name__", repr(cls))
        if type(err) in (TypeError, ValueError, KeyError, AssertionError, RuntimeError):
            raise type(err)(f"{name}: {err}") from err
        raise


def check_components(node: Any, path: str, registries: Iterable[Registry] | None = None) -> None:
    """Check every ``dict(type=...)`` under ``node`` against its class's arguments.

    A ``type`` is looked up in ``registries`` (all of them by default); dicts whose type no
    registry knows, and everything inside them, are left to the builder, which names the
    registry when it fails.
    """
    registries = list(ALL_REGISTRIES if registries is None else registries)
    if isinstance(node, dict):
        type_ = node.get("type")
        known = type_ is None
        for reg in registries:
            cls = None
            if isinstance(type_, str) and type_ in reg:
                cls = reg.get(type_)
            elif type_ is not None and not isinstance(type_, str) and callable(type_):
                cls = type_
            if cls is not None:
                known = True
                if reg.check_args:
                    check_args(cls, [k for k in node if k != "type"], path, check_missing=False)
                break
        if not known:
            return  # an unknown component may consume its children's keys itself
        for key, value in node.items():
            check_components(value, f"{path}.{key}" if path else str(key), registries)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            check_components(value, f"{path}.{i}", registries)


MODELS = Registry("MODELS")
BACKBONES = NECKS = HEADS = LOSSES = DETECTORS = SHARED_HEADS = ROI_EXTRACTORS = MODELS
DATASETS = Registry("DATASETS")
TRANSFORMS = Registry("TRANSFORMS")
PIPELINES = TRANSFORMS
TASK_UTILS = Registry("TASK_UTILS")
HOOKS = Registry("HOOKS")
OPTIMIZERS = Registry("OPTIMIZERS")
OPTIMIZER_BUILDERS = Registry("OPTIMIZER_BUILDERS")
RUNNERS = Registry("RUNNERS")
# Layers (conv, norm, activation, upsample, RoI ops) built by helpers that rewrite their keys
# (``norm_cfg=dict(type='BN', requires_grad=False)``), so their dicts are not signature-checked.
LAYERS = Registry("LAYERS", check_args=False)

ALL_REGISTRIES = (MODELS, DATASETS, TRANSFORMS, TASK_UTILS, HOOKS, OPTIMIZERS,
                  OPTIMIZER_BUILDERS, RUNNERS, LAYERS)
