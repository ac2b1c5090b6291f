"""Data: datasets, pipeline transforms and loading; importing registers them."""

from ..mmcompat import enabled_while

# Transforms written for MMDetection v2 and dropped into transforms/ (as the seed does with
# mmdet/datasets/pipelines/) import mmdet / mmcv names; they resolve while the package loads.
with enabled_while():
    from . import transforms  # noqa: F401
from ..registry import DATASETS, PIPELINES
from .annotation_store import AnnotationStore, DataInfos, RaggedArray
from .builder import build_dataloader, build_dataset, worker_init_fn
from .class_aware_sampler import ClassAwareSampler
from .coco import CocoDataset
from .collate import collate
from .custom import CustomDataset
from .pipeline_utils import get_loading_pipeline, replace_ImageToTensor
from .samplers import (
    DistributedGroupSampler,
    DistributedSampler,
    GroupSampler,
    InfiniteBatchSampler,
    InfiniteGroupBatchSampler,
)
from .voc import VOCDataset
from .wrappers import ClassBalancedDataset, ConcatDataset, MultiImageMixDataset, RepeatDataset
from .xml_style import XMLDataset

__all__ = [
    "AnnotationStore", "DataInfos", "RaggedArray", "build_dataloader", "build_dataset",
    "worker_init_fn", "ClassAwareSampler", "CocoDataset", "collate", "CustomDataset",
    "DistributedGroupSampler", "DistributedSampler", "GroupSampler", "InfiniteBatchSampler",
    "InfiniteGroupBatchSampler", "VOCDataset", "ClassBalancedDataset", "ConcatDataset",
    "MultiImageMixDataset", "RepeatDataset", "XMLDataset", "DATASETS", "PIPELINES",
    "replace_ImageToTensor", "get_loading_pipeline",
]
