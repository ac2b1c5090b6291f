"""AnnotationStore: per-image dicts in numpy columns give back what went in."""

import numpy as np
import pytest

from detbox.datasets.annotation_store import AnnotationStore, ColumnView, DataInfos, RaggedArray


def test_ragged_rows_and_select():
    r = RaggedArray.from_rows([np.array([[1, 2]]), np.zeros((0, 2)), np.array([[3, 4], [5, 6]])])
    assert len(r) == 3 and r.data.shape == (3, 2)
    np.testing.assert_array_equal(r.offsets, [0, 1, 1, 3])
    np.testing.assert_array_equal(r[2], [[3, 4], [5, 6]])
    np.testing.assert_array_equal(r.row_ids(), [0, 2, 2])
    s = r.select([2, 0, 1])
    np.testing.assert_array_equal(s.offsets, [0, 2, 3, 3])
    np.testing.assert_array_equal(s.data, [[3, 4], [5, 6], [1, 2]])
    assert s[2].shape == (0, 2)
    kept = r.select([0, 2])  # a filter (sorted, unique)
    np.testing.assert_array_equal(kept.offsets, [0, 1, 3])
    np.testing.assert_array_equal(kept.data, [[1, 2], [3, 4], [5, 6]])
    assert r.select(range(3)).data is r.data  # keeping everything shares the buffer
    np.testing.assert_array_equal(r.select([-1]).data, [[3, 4], [5, 6]])
    row = r[0]
    row[:] = 0
    assert r[0].tolist() == [[1, 2]]  # rows are copies
    with pytest.raises(IndexError):
        r[3]
    with pytest.raises(ValueError, match="bad offsets"):
        RaggedArray(np.zeros(3), np.array([0, 2]))


def test_columns_round_trip_types():
    infos = [
        dict(filename="ä.jpg", width=3, height=4, score=0.5, flag=True, id="x1",
             extra=dict(k=[1, 2]),
             ann=dict(bboxes=np.ones((2, 4), np.float32), labels=np.array([0, 1]),
                      masks=[[[1.0, 2.0, 3.0]], None], custom=np.arange(2, dtype=np.int16))),
        dict(filename="b.jpg", width=5, height=6, score=1.5, flag=False, id=7,
             ann=dict(bboxes=np.zeros((0, 4), np.float32), labels=np.zeros(0, np.int64),
                      masks=[], custom=np.arange(3, dtype=np.int16))),
    ]
    store = AnnotationStore.from_infos(infos)
    assert store.info(0) == {k: v for k, v in infos[0].items() if k != "ann"}
    assert store.info(1) == {k: v for k, v in infos[1].items() if k != "ann"}  # no 'extra'
    assert store.scalars("filename").dtype.kind == "S"
    assert store.scalars("width").dtype == np.int64 and store.scalars("flag").dtype == bool
    assert store.scalars("id") is None  # mixed str/int ids: pickled, still exact
    ann = store.ann(0)
    assert ann["masks"] == [[[1.0, 2.0, 3.0]], None] and store.ann(1)["masks"] == []
    assert ann["custom"].dtype == np.int16 and store.ann(1)["custom"].tolist() == [0, 1, 2]
    assert store.ragged("bboxes").data.shape == (2, 4)
    sub = store.select([1])
    assert len(sub) == 1 and sub.info(0)["filename"] == "b.jpg"
    assert all(isinstance(b, np.ndarray) for b in store.buffers())


def test_hidden_keys_and_partial_anns():
    store = AnnotationStore.from_infos([
        dict(filename="a", _secret=1, ann=dict(labels=[1], _raw=np.array([5]))),
        dict(filename="b", _secret=2),
    ])
    info = store.info(0, with_ann=True)
    assert list(info) == ["filename", "ann"] and list(info["ann"]) == ["labels"]
    assert info["ann"]["labels"].dtype == np.int64 and info["ann"]["labels"].tolist() == [1]
    assert "ann" not in store.info(1, with_ann=True)
    assert store.get("ann._raw", 0).tolist() == [5] and store.get("_secret", 1) == 2
    assert store.ann(0, hidden=True)["_raw"].tolist() == [5]


def test_views():
    store = AnnotationStore.from_infos([dict(filename=f"{i}.jpg", id=i) for i in range(4)])
    infos = DataInfos(store, with_ann=False)
    assert [i["id"] for i in infos[::2]] == [0, 2] and infos[-1]["id"] == 3
    ids = ColumnView(store.scalars("id"))
    assert list(ids) == [0, 1, 2, 3] and type(ids[1]) is int and ids == [0, 1, 2, 3]
