"""Samplers: group purity, padding, seeded determinism, distributed shards, endless batches."""

import itertools

import numpy as np
import pytest

from detbox.datasets import (
    ClassAwareSampler,
    DistributedGroupSampler,
    DistributedSampler,
    GroupSampler,
    InfiniteBatchSampler,
    InfiniteGroupBatchSampler,
)
from tests.datasets.dataset_fixtures import ToyDataset

FLAG = [0, 1, 1, 0, 1, 1, 1, 0, 1, 1]  # 3 tall images, 7 wide ones


@pytest.fixture
def toy():
    return ToyDataset([[0]] * len(FLAG), flag=FLAG)


def batches(indices, size):
    return [indices[i:i + size] for i in range(0, len(indices), size)]


def assert_pure(indices, size):
    for batch in batches(indices, size):
        assert len({FLAG[i] for i in batch}) == 1, batch


def test_group_sampler_batches_are_pure_and_padded(toy):
    sampler = GroupSampler(toy, samples_per_gpu=2)
    assert len(sampler) == 4 + 8  # 3 -> 4 and 7 -> 8
    np.random.seed(0)
    indices = list(sampler)
    assert len(indices) == 12 and set(indices) == set(range(10))
    assert_pure(indices, 2)
    np.random.seed(0)
    assert list(sampler) == indices  # v2 draws from numpy's global state
    np.random.seed(1)
    assert list(sampler) != indices


def test_distributed_group_sampler_shards_cover_dataset(toy):
    shards = [list(DistributedGroupSampler(toy, 2, num_replicas=3, rank=r, seed=5))
              for r in range(3)]
    # per group: ceil(3/2/3)*2 = 2 and ceil(7/2/3)*2 = 4 per rank
    assert [len(s) for s in shards] == [6, 6, 6]
    assert set(itertools.chain(*shards)) == set(range(10))
    for shard in shards:
        assert_pure(shard, 2)
    again = list(DistributedGroupSampler(toy, 2, num_replicas=3, rank=1, seed=5))
    assert again == shards[1]
    sampler = DistributedGroupSampler(toy, 2, num_replicas=3, rank=1, seed=5)
    sampler.set_epoch(1)
    assert list(sampler) != shards[1]


def test_distributed_sampler(toy):
    shards = [list(DistributedSampler(toy, num_replicas=4, rank=r, shuffle=True, seed=3))
              for r in range(4)]
    assert [len(s) for s in shards] == [3, 3, 3, 3]  # 10 padded to 12
    assert set(itertools.chain(*shards)) == set(range(10))
    assert list(DistributedSampler(toy, 4, 2, shuffle=True, seed=3)) == shards[2]
    ordered = list(DistributedSampler(toy, num_replicas=2, rank=0, shuffle=False))
    assert ordered == [0, 2, 4, 6, 8]
    s = DistributedSampler(toy, 1, 0, shuffle=True, seed=3)
    first = list(s)
    s.set_epoch(1)
    assert sorted(list(s)) == sorted(first) and list(s) != first


def test_infinite_group_batch_sampler(toy):
    sampler = InfiniteGroupBatchSampler(toy, batch_size=3, seed=0)
    got = list(itertools.islice(iter(sampler), 6))
    for batch in got:
        assert len(batch) == 3 and len({FLAG[i] for i in batch}) == 1
    again = list(itertools.islice(iter(InfiniteGroupBatchSampler(toy, 3, seed=0)), 6))
    assert again == got
    assert len(sampler) == 10
    with pytest.raises(NotImplementedError):
        sampler.set_epoch(1)


def test_infinite_batch_sampler_ranks_interleave(toy):
    ranks = [list(itertools.islice(iter(InfiniteBatchSampler(toy, 5, world_size=2, rank=r,
                                                             seed=1)), 1)) for r in range(2)]
    first_pass = ranks[0][0] + ranks[1][0]
    assert sorted(first_pass) == list(range(10))  # the two ranks split one shuffled pass
    ordered = InfiniteBatchSampler(toy, 4, world_size=1, rank=0, shuffle=False)
    assert list(itertools.islice(iter(ordered), 3)) == [[0, 1, 2, 3], [4, 5, 6, 7],
                                                        [8, 9, 0, 1]]


def test_class_aware_sampler_balances_classes():
    # class 0 in 9 images, class 1 in only image 9
    ds = ToyDataset([[0]] * 9 + [[1]])
    sampler = ClassAwareSampler(ds, samples_per_gpu=2, seed=0)
    indices = list(sampler)
    assert len(indices) == len(sampler) == 10
    assert indices.count(9) == 5  # every other draw is the rare class's only image
    assert list(ClassAwareSampler(ds, samples_per_gpu=2, seed=0)) == indices
    with pytest.raises(ValueError, match="num_sample_class"):
        ClassAwareSampler(ds, num_sample_class=0)
