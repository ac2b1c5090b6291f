"""Dataset wrappers: lengths, index mapping, flags, repeat factors, mixing pipelines."""

import math

import numpy as np
import pytest

from detbox.datasets import (
    ClassBalancedDataset,
    CocoDataset,
    ConcatDataset,
    MultiImageMixDataset,
    RepeatDataset,
)
from detbox.registry import TRANSFORMS
from tests.datasets.dataset_fixtures import ToyDataset


class ToyMix:
    """Mixes two other images: records their indices."""

    def __init__(self, others=(1, 2)):
        self.others = list(others)

    def get_indexes(self, dataset):
        return self.others

    def __call__(self, results):
        results["mixed"] = [r["idx"] for r in results["mix_results"]]
        return results


class ToyFlaky:
    """Returns None the first ``fails`` times it is called."""

    def __init__(self, fails=1):
        self.fails = fails
        self.calls = 0

    def __call__(self, results):
        self.calls += 1
        if self.calls <= self.fails:
            return None
        results["flaky_calls"] = self.calls
        return results


class ToyBoom:
    def __call__(self, results):
        raise ValueError("bad mix")


@pytest.fixture(autouse=True)
def toy_transforms(monkeypatch):
    """Register the toy transforms for one test only (the registry is shared by all tests)."""
    for cls in (ToyMix, ToyFlaky, ToyBoom):
        monkeypatch.setitem(TRANSFORMS._modules, cls.__name__, cls)


def test_repeat_dataset():
    ds = ToyDataset([[0], [1], [0, 1]], flag=[1, 0, 1])
    rep = RepeatDataset(ds, times=3)
    assert len(rep) == 9
    assert [rep[i]["idx"] for i in range(9)] == [0, 1, 2] * 3
    assert rep.get_cat_ids(5) == [0, 1] and rep.get_ann_info(4)["idx"] == 1
    np.testing.assert_array_equal(rep.flag, [1, 0, 1] * 3)
    assert rep.CLASSES == ("a", "b")


def test_concat_dataset_maps_indices():
    first = ToyDataset([[0], [1]], flag=[0, 1])
    second = ToyDataset([[1], [1], [0]], flag=[1, 1, 0], offset=100)
    cat = ConcatDataset([first, second])
    assert len(cat) == 5
    assert [cat[i]["idx"] for i in range(5)] == [0, 1, 100, 101, 102]
    assert cat.get_ann_info(3)["idx"] == 101 and cat.get_ann_info(-1)["idx"] == 102
    assert cat.get_cat_ids(4) == [0] and cat.get_cat_ids(1) == [1]
    np.testing.assert_array_equal(cat.flag, [0, 1, 1, 1, 0])
    with pytest.raises(ValueError, match="should not exceed"):
        cat.get_cat_ids(-6)


def test_concat_separate_eval(tiny_coco):
    class Evaluating(ToyDataset):
        def evaluate(self, results, logger=None, **kw):
            return dict(n=len(results), first=results[0])

    cat = ConcatDataset([Evaluating([[0]] * 2), Evaluating([[0]] * 3)])
    assert cat.evaluate(list(range(5))) == {"0_n": 2, "0_first": 0, "1_n": 3, "1_first": 2}
    with pytest.raises(ValueError, match="different sizes"):
        cat.evaluate([1])
    coco = CocoDataset(ann_file=str(tiny_coco), pipeline=[], classes=("dog",), test_mode=True)
    with pytest.raises(NotImplementedError, match="separate_eval=True"):
        ConcatDataset([coco, coco], separate_eval=False)


def test_class_balanced_repeat_factors_by_hand():
    # f(a) = 3/5, f(b) = 1/5; t = 0.5: r(a) = max(1, sqrt(0.5/0.6)) = 1, r(b) = sqrt(2.5)
    ds = ToyDataset([[0], [0], [0, 0], [1, 0], []], flag=[0, 1, 0, 1, 1])
    cbd = ClassBalancedDataset(ds, oversample_thr=0.5)
    assert cbd.repeat_factors[:3] == [1.0, 1.0, 1.0]
    assert cbd.repeat_factors[3] == pytest.approx(math.sqrt(2.5))
    assert cbd.repeat_factors[4] == 1
    np.testing.assert_array_equal(cbd.repeat_indices, [0, 1, 2, 3, 3, 4])
    np.testing.assert_array_equal(cbd.flag, [0, 1, 0, 1, 1, 1])
    assert len(cbd) == 6 and cbd[4]["idx"] == 3 and cbd.get_ann_info(5)["idx"] == 4
    # empty images as a background class: f(bg) = 1/5 -> repeated ceil(sqrt(2.5)) = 2 times
    cbd_bg = ClassBalancedDataset(ds, oversample_thr=0.5, filter_empty_gt=False)
    np.testing.assert_array_equal(cbd_bg.repeat_indices, [0, 1, 2, 3, 3, 4, 4])


def test_class_balanced_high_threshold_repeats_everything():
    ds = ToyDataset([[0], [1], [1], [1]])
    cbd = ClassBalancedDataset(ds, oversample_thr=1.0)
    # r(a) = sqrt(1 / 0.25) = 2, r(b) = sqrt(1 / 0.75) = 1.155 -> ceil 2
    np.testing.assert_array_equal(cbd.repeat_indices, [0, 0, 1, 1, 2, 2, 3, 3])


def test_multi_image_mix_gives_mix_results():
    ds = ToyDataset([[0]] * 4, flag=[0, 1, 0, 1])
    mix = MultiImageMixDataset(ds, [dict(type="ToyMix", others=[3, 1])])
    out = mix[0]
    assert out == dict(idx=0, mixed=[3, 1])  # mix_results removed afterwards
    assert len(mix) == 4 and mix.flag is ds.flag and mix.CLASSES == ds.CLASSES
    skipped = MultiImageMixDataset(ds, [dict(type="ToyMix")], skip_type_keys=["ToyMix"])
    assert skipped[2] == dict(idx=2)
    skipped.update_skip_type_keys([])
    assert skipped[2]["mixed"] == [1, 2]


def test_multi_image_mix_retries_and_errors():
    ds = ToyDataset([[0]] * 3)
    flaky = MultiImageMixDataset(ds, [dict(type="ToyFlaky", fails=2)])
    assert flaky[1]["flaky_calls"] == 3
    hopeless = MultiImageMixDataset(ds, [dict(type="ToyFlaky", fails=100)], max_refetch=5)
    with pytest.raises(RuntimeError, match="ToyFlaky returned None 5 times"):
        hopeless[0]
    with pytest.raises(ValueError, match=r"MultiImageMixDataset\[1\] ToyBoom: bad mix"):
        MultiImageMixDataset(ds, [dict(type="ToyBoom")])[1]
    with pytest.raises(RuntimeError, match="deprecated"):
        MultiImageMixDataset(ds, [], dynamic_scale=(640, 640))


def test_multi_image_mix_takes_transform_objects():
    mix = MultiImageMixDataset(ToyDataset([[0]] * 3), [ToyMix(others=[2])])
    assert mix.pipeline_types == ["ToyMix"] and mix[0]["mixed"] == [2]
