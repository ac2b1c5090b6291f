"""``Config``: load ``.py`` / ``.json`` / ``.yaml`` config files the way MMDetection v2 does.

Loading one file:

1. predefined variables in the text are substituted: ``{{ fileDirname }}``,
   ``{{ fileBasename }}``, ``{{ fileBasenameNoExtension }}``, ``{{ fileExtname }}``;
2. ``{{_base_.a.b}}`` references become placeholders, to be replaced by the bases' values;
3. the file is executed (``.py``) or parsed; every module-level name not starting with ``__``
   becomes a key, except modules and functions;
4. ``_deprecation_`` warns; ``_base_`` (a path or a list, relative to this file) is loaded
   recursively; bases may not share top-level keys; they are combined in order, then this
   file is merged in with :func:`~detbox.config.merge.merge_into`.

After the whole tree is merged, ``${a.b}`` references in strings are resolved (beyond
mmcv) and ``custom_imports`` are imported.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import os.path as osp
import re
import uuid
import warnings
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any, Iterator

from .config_dict import ConfigDict, missing_key_message, to_plain
from .imports import import_modules_from_strings
from .merge import merge_into
from .pretty import format_config
from .references import resolve_references

BASE_KEY = "_base_"
DEPRECATION_KEY = "_deprecation_"
RESERVED_KEYS = ("filename", "text", "pretty_text")
SUPPORTED_EXTS = (".py", ".json", ".yaml", ".yml")

_BASE_REF = re.compile(r"\{\{\s*" + BASE_KEY + r"\.([\w\.]+)\s*\}\}")


def _substitute_predefined_vars(text: str, filename: str) -> str:
    basename = osp.basename(filename)
    values = {
        "fileDirname": osp.dirname(filename),
        "fileBasename": basename,
        "fileBasenameNoExtension": osp.splitext(basename)[0],
        "fileExtname": osp.splitext(filename)[1],
    }
    for name, value in values.items():
        value = value.replace("\\", "/")
        text = re.sub(r"\{\{\s*" + name + r"\s*\}\}", lambda _m, v=value: v, text)
    return text


def _placeholder_base_refs(text: str) -> tuple[str, dict[str, str]]:
    """Replace ``{{_base_.a.b}}`` by quoted unique placeholders; return the map back."""
    refs: dict[str, str] = {}
    for ref in sorted(set(_BASE_REF.findall(text))):
        token = f"_{ref}_{uuid.uuid4().hex[:6]}"
        refs[token] = ref
        pattern = r"\{\{\s*" + BASE_KEY + r"\." + re.escape(ref) + r"\s*\}\}"
        text = re.sub(pattern, f'"{token}"', text)
    return text, refs


def _lookup(tree: Any, dotted: str, filename: str) -> Any:
    node = tree
    for part in dotted.split("."):
        if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"{filename}: '{{{{_base_.{dotted}}}}}' does not name a value of its "
                           f"bases ('{part}' is missing)")
    return node


def _substitute_base_refs(value: Any, refs: dict[str, str], base: dict, filename: str) -> Any:
    """Replace placeholder strings by the bases' values (as a deep copy)."""
    if isinstance(value, str) and value in refs:
        return copy.deepcopy(_lookup(base, refs[value], filename))
    if isinstance(value, dict):
        return {k: _substitute_base_refs(v, refs, base, filename) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_substitute_base_refs(v, refs, base, filename) for v in value)
    return value


def _execute_python(text: str, filename: str) -> dict:
    try:
        tree = ast.parse(text, filename=filename)
    except SyntaxError as err:
        raise SyntaxError(f"There are syntax errors in config file {filename}: {err}") from err
    namespace: dict[str, Any] = {"__file__": filename, "__name__": "detbox_config"}
    exec(compile(tree, filename, "exec"), namespace)
    return {
        name: value
        for name, value in namespace.items()
        if not name.startswith("__") and not isinstance(value, (ModuleType, FunctionType))
    }


def _parse_text(text: str, filename: str) -> dict:
    ext = osp.splitext(filename)[1]
    if ext == ".py":
        return _execute_python(text, filename)
    if ext == ".json":
        data = json.loads(text) if text.strip() else None
    else:
        import yaml

        data = yaml.safe_load(text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TypeError(f"{filename}: a config file must hold a mapping, got {type(data).__name__}")
    return data


def _file_to_dict(filename: str, use_predefined_variables: bool = True,
                  _chain: tuple[str, ...] = ()) -> tuple[dict, str]:
    """Load one file and its bases; return the merged plain dict and the joined source text."""
    filename = osp.abspath(osp.expanduser(filename))
    if not osp.isfile(filename):
        where = f" (a _base_ of {_chain[-1]})" if _chain else ""
        raise FileNotFoundError(f"config file '{filename}' does not exist{where}")
    if filename in _chain:
        cycle = " -> ".join([*_chain[_chain.index(filename):], filename])
        raise RecursionError(f"_base_ files include each other in a cycle: {cycle}")
    ext = osp.splitext(filename)[1]
    if ext not in SUPPORTED_EXTS:
        raise OSError(f"{filename}: only py/yml/yaml/json type are supported now!")
    with open(filename, encoding="utf-8") as f:
        raw = f.read()
    text = _substitute_predefined_vars(raw, filename) if use_predefined_variables else raw
    text, refs = _placeholder_base_refs(text)
    cfg = _parse_text(text, filename)

    if DEPRECATION_KEY in cfg:
        info = cfg.pop(DEPRECATION_KEY)
        message = f"The config file {filename} will be deprecated in the future."
        if "expected" in info:
            message += f" Please use {info['expected']} instead."
        if "reference" in info:
            message += f" More information can be found at {info['reference']}"
        warnings.warn(message, DeprecationWarning, stacklevel=2)

    cfg_text = filename + "\n" + raw
    if BASE_KEY not in cfg:
        if refs:
            raise KeyError(f"{filename} uses {{{{_base_....}}}} but has no {BASE_KEY}")
        return cfg, cfg_text

    base_names = cfg.pop(BASE_KEY)
    base_names = base_names if isinstance(base_names, list) else [base_names]
    base: dict = {}
    base_owner: dict[str, str] = {}
    texts = []
    for name in base_names:
        path = osp.join(osp.dirname(filename), name)
        part, part_text = _file_to_dict(path, use_predefined_variables, (*_chain, filename))
        duplicates = base.keys() & part.keys()
        if duplicates:
            where = ", ".join(f"'{k}' in {base_owner[k]} and {path}" for k in sorted(duplicates))
            raise KeyError(
                f"Duplicate key is not allowed among bases. Duplicate keys: {duplicates} ({where})"
            )
        base.update(part)
        base_owner.update(dict.fromkeys(part, path))
        texts.append(part_text)
    cfg = _substitute_base_refs(copy.deepcopy(cfg), refs, base, filename)
    merged = merge_into(cfg, base)
    texts.append(cfg_text)
    return merged, "\n".join(texts)


class Config:
    """A loaded config: attribute and item access to its keys, plus its file name and text.

    >>> cfg = Config(dict(model=dict(type='RetinaNet')))
    >>> cfg.model.type
    'RetinaNet'
    """

    def __init__(self, cfg_dict: dict | None = None, cfg_text: str | None = None,
                 filename: str | os.PathLike | None = None) -> None:
        cfg_dict = {} if cfg_dict is None else cfg_dict
        if not isinstance(cfg_dict, dict):
            raise TypeError(f"cfg_dict must be a dict, but got {type(cfg_dict)}")
        for key in cfg_dict:
            if key in RESERVED_KEYS:
                raise KeyError(f"{key} is reserved for config file")
        filename = str(filename) if filename is not None else None
        if cfg_text is None:
            cfg_text = ""
            if filename is not None and osp.isfile(filename):
                with open(filename, encoding="utf-8") as f:
                    cfg_text = f.read()
        object.__setattr__(self, "_cfg_dict", ConfigDict(cfg_dict))
        object.__setattr__(self, "_filename", filename)
        object.__setattr__(self, "_text", cfg_text)

    # ----------------------------------------------------------------------------- loading
    @staticmethod
    def fromfile(filename: str | os.PathLike, use_predefined_variables: bool = True,
                 import_custom_modules: bool = True) -> Config:
        """Load a config file with its ``_base_`` files; import ``custom_imports``."""
        filename = str(filename)
        cfg_dict, cfg_text = _file_to_dict(filename, use_predefined_variables)
        cfg_dict = resolve_references(cfg_dict)
        if import_custom_modules and cfg_dict.get("custom_imports"):
            import_modules_from_strings(**cfg_dict["custom_imports"], config_dir=osp.dirname(
                osp.abspath(filename)))
        return Config(cfg_dict, cfg_text=cfg_text, filename=filename)

    @staticmethod
    def fromstring(cfg_str: str, file_format: str) -> Config:
        """Load a config from text; ``file_format`` is ``'.py'``, ``'.json'`` or ``'.yaml'``."""
        if file_format not in SUPPORTED_EXTS:
            raise OSError("Only py/yml/yaml/json type are supported now!")
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, "config" + file_format)
            with open(path, "w", encoding="utf-8") as f:
                f.write(cfg_str)
            cfg = Config.fromfile(path)
        object.__setattr__(cfg, "_filename", None)
        object.__setattr__(cfg, "_text", cfg_str)
        return cfg

    def merge_from_dict(self, options: dict[str, Any], allow_list_keys: bool = True) -> None:
        """Merge ``{'a.b.c': value}`` options (``--cfg-options``) into this config.

        >>> cfg = Config(dict(model=dict(backbone=dict(depth=50))))
        >>> cfg.merge_from_dict({'model.backbone.depth': 101})
        >>> cfg.model.backbone.depth
        101
        """
        tree: dict = {}
        for full_key, value in options.items():
            node = tree
            *parents, last = full_key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
        merged = merge_into(tree, self._cfg_dict, allow_list_keys=allow_list_keys)
        object.__setattr__(self, "_cfg_dict", ConfigDict(merged))

    # ------------------------------------------------------------------------------ access
    @property
    def filename(self) -> str | None:
        return self._filename

    @property
    def text(self) -> str:
        return self._text

    @property
    def pretty_text(self) -> str:
        """Python source that reloads to an equal config."""
        return format_config(self._cfg_dict)

    def to_dict(self) -> dict:
        return to_plain(self._cfg_dict)

    def dump(self, file: str | os.PathLike | None = None) -> str | None:
        """Write the config to ``file`` (``.py``, ``.json``, ``.yaml``); return text if ``None``."""
        ext = osp.splitext(str(file if file is not None else self.filename or ".py"))[1]
        if ext == ".py":
            text = self.pretty_text
        elif ext == ".json":
            text = json.dumps(_jsonable(self._cfg_dict), indent=2) + "\n"
        elif ext in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(_jsonable(self._cfg_dict), sort_keys=False)
        else:
            raise OSError(f"cannot dump a config as '{ext}': use .py, .json or .yaml")
        if file is None:
            return text
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        with open(file, "w", encoding="utf-8") as f:
            f.write(text)
        return None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._cfg_dict[name]
        except KeyError:
            raise AttributeError(missing_key_message(name, self._cfg_dict.keys())) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._cfg_dict[name] = value

    def __delattr__(self, name: str) -> None:
        delattr(self._cfg_dict, name)

    def __getitem__(self, name: str) -> Any:
        return self._cfg_dict[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self._cfg_dict[name] = value

    def __delitem__(self, name: str) -> None:
        del self._cfg_dict[name]

    def __contains__(self, name: object) -> bool:
        return name in self._cfg_dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._cfg_dict)

    def __len__(self) -> int:
        return len(self._cfg_dict)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Config):
            return self._cfg_dict == other._cfg_dict
        return NotImplemented

    def get(self, name: str, default: Any = None) -> Any:
        return self._cfg_dict.get(name, default)

    def keys(self):
        return self._cfg_dict.keys()

    def values(self):
        return self._cfg_dict.values()

    def items(self):
        return self._cfg_dict.items()

    def copy(self) -> Config:
        return Config(self._cfg_dict.copy(), self._text, self._filename)

    def __deepcopy__(self, memo: dict) -> Config:
        return Config(copy.deepcopy(self._cfg_dict, memo), self._text, self._filename)

    def __getstate__(self) -> tuple:
        return (to_plain(self._cfg_dict), self._text, self._filename)

    def __setstate__(self, state: tuple) -> None:
        cfg_dict, text, filename = state
        object.__setattr__(self, "_cfg_dict", ConfigDict(cfg_dict))
        object.__setattr__(self, "_text", text)
        object.__setattr__(self, "_filename", filename)

    def __repr__(self) -> str:
        return f"Config (path: {self.filename}): {self._cfg_dict!r}"


def _jsonable(value: Any) -> Any:
    """Tuples become lists for JSON/YAML output."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
