"""Data: datasets, pipeline transforms and loading; importing registers them."""

from . import transforms  # noqa: F401
from .annotation_store import AnnotationStore, DataInfos, RaggedArray
from .builder import build_dataloader, build_dataset, worker_init_fn
from .class_aware_sampler import ClassAwareSampler
from .coco import CocoDataset
from .collate import collate
from .custom import CustomDataset
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
    "MultiImageMixDataset", "RepeatDataset", "XMLDataset",
]
