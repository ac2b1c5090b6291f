"""The import hook behind :mod:`detbox.mmcompat`: ``mmdet.X`` -> ``detbox.X`` and
``mmcv.X`` -> ``detbox.mmcompat.mmcv.X``, as proxy modules that explain what is missing."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import types
from typing import Any

from ..suggest import close_matches

__all__ = ["ALIASES", "CompatFinder", "CompatImportError", "AliasModule"]

# Top-level name -> the detbox package that provides it.
ALIASES = {"mmdet": "detbox", "mmcv": "detbox.mmcompat.mmcv"}

# Modules of mmcv/mmdet that detbox does not provide, with the nearest detbox feature.
_MISSING_MODULES = {
    "mmcv.fileio": "detbox.datasets.file_io (list_from_file, load_file); use open() / json",
    "mmcv.video": "OpenCV's cv2.VideoCapture (demo/image_demo.py reads videos)",
    "mmcv.onnx": "torch.onnx.export on a detbox model",
    "mmcv.tensorrt": "no TensorRT support; torch.onnx.export then TensorRT's own tools",
    "mmcv.engine": "detbox.apis.single_gpu_test / multi_gpu_test",
}


class CompatImportError(ImportError):
    """A name or module of mmcv/mmdet that detbox's compatibility layer does not provide."""


class AliasModule(types.ModuleType):
    """``mmdet.X`` / ``mmcv.X``: forwards attribute access to the detbox module behind it."""

    __detbox_alias__ = True

    def __init__(self, name: str, target: types.ModuleType) -> None:
        super().__init__(name, getattr(target, "__doc__", None))
        self.__dict__["_target"] = target
        self.__file__ = getattr(target, "__file__", None)
        if hasattr(target, "__path__"):
            self.__path__ = []  # a package: its submodules come through CompatFinder too

    def __getattr__(self, name: str) -> Any:
        target = self.__dict__["_target"]
        try:
            return getattr(target, name)
        except AttributeError:
            if name.startswith("_"):
                raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") \
                    from None
        sub = f"{self.__name__}.{name}"
        if "__path__" in self.__dict__:
            try:
                return importlib.import_module(sub)
            except CompatImportError:
                pass
        public = [n for n in dir(target) if not n.startswith("_")]
        close = close_matches(name, public)
        hint = f" Closest names here: {', '.join(close)}." if close else ""
        raise CompatImportError(
            f"{sub} is not provided by detbox's MMDetection compatibility layer "
            f"({self.__name__} is {target.__name__}).{hint} See README 'Coming from "
            f"MMDetection' for what is supported.")

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self.__dict__["_target"])) | set(self.__dict__))


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return AliasModule(spec.name, importlib.import_module(self.target))

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class CompatFinder(importlib.abc.MetaPathFinder):
    """Resolves ``mmdet[.X]`` and ``mmcv[.X]`` to detbox modules (put last on
    ``sys.meta_path``, so a real installation is always found first)."""

    def find_spec(self, fullname: str, path: Any = None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        top, _, rest = fullname.partition(".")
        if top not in ALIASES:
            return None
        name = ALIASES[top] + (f".{rest}" if rest else "")
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            hint = _MISSING_MODULES.get(fullname)
            for prefix, text in _MISSING_MODULES.items():
                if hint is None and fullname.startswith(prefix + "."):
                    hint = text
            raise CompatImportError(
                f"{fullname} is not provided by detbox's MMDetection compatibility layer"
                + (f"; the nearest detbox feature: {hint}" if hint else "")
                + ". See README 'Coming from MMDetection' for what is supported.",
                name=fullname)
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(name),
                                              is_package=spec.submodule_search_locations
                                              is not None)
