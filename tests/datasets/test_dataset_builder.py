"""build_dataset (v2's config rules) and build_dataloader (samplers, collate, worker seeds)."""

import itertools
import random

import numpy as np
import pytest
import torch

from detbox.datasets import (
    ClassBalancedDataset,
    CocoDataset,
    ConcatDataset,
    GroupSampler,
    MultiImageMixDataset,
    RepeatDataset,
    build_dataloader,
    build_dataset,
)
from detbox.datasets.samplers import InfiniteGroupBatchSampler
from tests.datasets.dataset_fixtures import TINY_CATEGORIES, TINY_IMAGES, ToyDataset, write_coco

CLASSES = ("dog", "cat", "bird")


@pytest.fixture
def two_cocos(tmp_path):
    first = write_coco(tmp_path / "first.json")
    second = write_coco(tmp_path / "second.json", images=TINY_IMAGES[:2],
                        annotations=[dict(id=1, image_id=5, category_id=3, bbox=[1, 1, 9, 9],
                                          area=81)], categories=TINY_CATEGORIES)
    return first, second


def coco_cfg(ann_file, **kwargs):
    return dict(type="CocoDataset", ann_file=ann_file, pipeline=[], classes=CLASSES, **kwargs)


def test_list_ann_file_builds_concat_with_matched_prefixes(two_cocos):
    cfg = coco_cfg([str(p) for p in two_cocos], img_prefix=["imgs1/", "imgs2/"],
                   separate_eval=False)
    with pytest.raises(NotImplementedError):  # separate_eval goes to the concat, not the sets
        build_dataset(cfg)
    cfg["separate_eval"] = True
    ds = build_dataset(cfg)
    assert isinstance(ds, ConcatDataset) and len(ds.datasets) == 2
    assert [d.img_prefix for d in ds.datasets] == ["imgs1/", "imgs2/"]
    assert len(ds) == 3 + 1  # training filter: a, b, e of the first; a of the second
    assert isinstance(ds.datasets[1], CocoDataset) and ds.CLASSES == CLASSES
    bad = coco_cfg([str(p) for p in two_cocos], img_prefix=["only_one/"])
    with pytest.raises(ValueError, match="img_prefix has 1 entries but ann_file has 2"):
        build_dataset(bad)


def test_wrapper_configs_and_default_args(two_cocos):
    first = str(two_cocos[0])
    rep = build_dataset(dict(type="RepeatDataset", times=2, dataset=coco_cfg(first)),
                        dict(test_mode=True))
    assert isinstance(rep, RepeatDataset) and len(rep) == 12  # test_mode reached the inner set
    cbd = build_dataset(dict(type="ClassBalancedDataset", oversample_thr=0.0,
                             dataset=coco_cfg(first)))
    assert isinstance(cbd, ClassBalancedDataset) and len(cbd) == 3
    mix = build_dataset(dict(type="MultiImageMixDataset", dataset=coco_cfg(first), pipeline=[]))
    assert isinstance(mix, MultiImageMixDataset) and len(mix) == 3
    concat = build_dataset(dict(type="ConcatDataset", datasets=[coco_cfg(first)] * 2))
    assert len(concat) == 6
    listed = build_dataset([coco_cfg(first), coco_cfg(first)])
    assert isinstance(listed, ConcatDataset) and len(listed) == 6
    assert isinstance(build_dataset(dict(type=CocoDataset, ann_file=first, pipeline=[],
                                         classes=CLASSES)), CocoDataset)


class Sized(ToyDataset):
    """Item: an image whose shape depends on its group, and one random draw."""

    def __getitem__(self, idx):
        h, w = (4, 6) if self.flag[idx] else (6, 4)
        return dict(img=torch.full((3, h, w), float(idx)), img_metas=dict(idx=idx),
                    gt_labels=torch.tensor([idx]), draw=float(np.random.rand()),
                    pydraw=random.random())


FLAG = [0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 0]


def run_epoch(loader, seed=0):
    np.random.seed(seed)
    return [(b["img_metas"], b["draw"], b["pydraw"]) for b in loader]


def test_dataloader_groups_and_pads():
    ds = Sized([[0]] * len(FLAG), flag=FLAG)
    loader = build_dataloader(ds, samples_per_gpu=3, workers_per_gpu=0, seed=0)
    assert isinstance(loader.sampler, GroupSampler)
    np.random.seed(0)
    for batch in loader:
        ids = [m["idx"] for m in batch["img_metas"]]
        assert len({FLAG[i] for i in ids}) == 1
        assert batch["img"].shape[:2] == (3, 3)
    ordered = build_dataloader(ds, 5, 0, shuffle=False)
    first = next(iter(ordered))
    assert [m["idx"] for m in first["img_metas"]] == [0, 1, 2, 3, 4]
    assert first["img"].shape == (5, 3, 6, 6)  # mixed groups padded to the largest


def test_dataloader_worker_seeds_make_epochs_repeatable():
    ds = Sized([[0]] * len(FLAG), flag=FLAG)
    a = run_epoch(build_dataloader(ds, 2, 2, seed=7))
    b = run_epoch(build_dataloader(ds, 2, 2, seed=7))
    c = run_epoch(build_dataloader(ds, 2, 2, seed=8))
    assert a == b
    assert [x[1] for x in a] != [x[1] for x in c]
    unseeded = run_epoch(build_dataloader(ds, 1, 2, shuffle=False))
    draws = [x[1][0] for x in unseeded]
    assert draws[0] != draws[1]  # two workers do not replay the same numpy stream


def test_dataloader_iter_runner_and_dist():
    ds = Sized([[0]] * len(FLAG), flag=FLAG)
    loader = build_dataloader(ds, 2, 0, seed=1, runner_type="IterBasedRunner")
    assert isinstance(loader.batch_sampler, InfiniteGroupBatchSampler)
    for batch in itertools.islice(iter(loader), 8):
        assert len({FLAG[m["idx"]] for m in batch["img_metas"]}) == 1
    dist = build_dataloader(ds, 2, 0, dist=True, seed=1)
    assert sorted({m["idx"] for b in dist for m in b["img_metas"]}) == list(range(12))
    dist_test = build_dataloader(ds, 1, 0, dist=True, shuffle=False)
    assert [b["img_metas"][0]["idx"] for b in dist_test] == list(range(12))
