"""Helpers that rewrite pipeline configs (MMDetection v2's ``replace_ImageToTensor`` and
``get_loading_pipeline``).

>>> pipeline = [dict(type='LoadImageFromFile'),
...             dict(type='MultiScaleFlipAug', img_scale=(1333, 800), flip=False,
...                  transforms=[dict(type='Resize', keep_ratio=True),
...                              dict(type='ImageToTensor', keys=['img']),
...                              dict(type='Collect', keys=['img'])])]
>>> [t['type'] for t in replace_ImageToTensor(pipeline)[1]['transforms']]
['Resize', 'DefaultFormatBundle', 'Collect']
>>> [t['type'] for t in get_loading_pipeline([dict(type='LoadImageFromFile'),
...     dict(type='LoadAnnotations', with_bbox=True), dict(type='Resize')])]
['LoadImageFromFile', 'LoadAnnotations']
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

__all__ = ["replace_ImageToTensor", "get_loading_pipeline"]

_LOADING = ("LoadImageFromFile", "LoadAnnotations", "LoadImageFromWebcam",
            "LoadMultiChannelImageFromFiles", "LoadPanopticAnnotations", "LoadProposals",
            "FilterAnnotations")


def replace_ImageToTensor(pipelines: list[dict]) -> list[dict]:  # noqa: N802 (mmdet's name)
    """A copy of a test pipeline config with ``ImageToTensor`` replaced by
    ``DefaultFormatBundle`` (also inside ``MultiScaleFlipAug``), so that batched testing
    (``samples_per_gpu > 1``) gets padded tensors; warns for each replacement."""
    pipelines = copy.deepcopy(pipelines)
    for i, step in enumerate(pipelines):
        if step.get("type") == "MultiScaleFlipAug":
            step["transforms"] = replace_ImageToTensor(step["transforms"])
        elif step.get("type") == "ImageToTensor":
            warnings.warn('"ImageToTensor" pipeline is replaced by "DefaultFormatBundle" for '
                          "batch inference. It is recommended to manually replace it in the "
                          "test data pipeline in your config file.", UserWarning, stacklevel=2)
            pipelines[i] = {"type": "DefaultFormatBundle"}
    return pipelines


def get_loading_pipeline(pipeline: list[dict]) -> list[dict]:
    """The image/annotation loading steps of a pipeline config (for ``browse_dataset``-like
    tools and dataset wrappers); raises if there are none."""
    steps: list[Any] = [copy.deepcopy(s) for s in pipeline if s.get("type") in _LOADING]
    if not steps:
        raise ValueError("the pipeline has no loading step (LoadImageFromFile, "
                         "LoadAnnotations, ...)")
    return steps
