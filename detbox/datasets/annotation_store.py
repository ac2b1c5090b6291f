"""Per-image annotations held column-wise in a few numpy buffers.

A dataset of N images keeps, for each key of MMDetection v2's per-image dict, one numpy
array (numbers; strings as one fixed-width utf-8 ``bytes`` array) or one *ragged* array:
the rows of all images concatenated, with ``offsets[N + 1]`` marking where each image's
rows start (``bboxes`` of image ``i`` are ``data[offsets[i]:offsets[i + 1]]``). Values that
are neither (polygons, RLE dicts, custom objects) are pickled into one ragged byte buffer.

Why: a list of N Python dicts is copied page by page into every forked DataLoader worker as
the workers touch the objects' reference counts ("copy-on-read"), so memory grows with
workers x dataset size. numpy buffers have no per-element objects, so the pages stay shared.

Keys starting with ``_`` are internal (kept, but left out of the dicts handed to users).

>>> store = AnnotationStore.from_infos([
...     dict(filename='a.jpg', width=4, height=3, ann=dict(bboxes=[[0, 0, 2, 2]], labels=[1])),
...     dict(filename='b.jpg', width=5, height=5, ann=dict(bboxes=[], labels=[])),
... ])
>>> store.info(0)['filename'], store.ann(0)['bboxes'].tolist(), store.ann(1)['labels'].shape
('a.jpg', [[0.0, 0.0, 2.0, 2.0]], (0,))
>>> DataInfos(store, with_ann=False)[1]
{'filename': 'b.jpg', 'width': 5, 'height': 5}
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any, Iterable

import numpy as np

__all__ = ["RaggedArray", "AnnotationStore", "DataInfos", "ColumnView"]

_MISSING = object()
_NO_ANN = object()  # an image without an ``ann`` dict: an empty row in array columns

# Keys of v2's middle format whose dtype and row shape are fixed by its documentation.
_ANN_FORMATS = {
    "bboxes": (np.float32, (4,)),
    "bboxes_ignore": (np.float32, (4,)),
    "labels": (np.int64, ()),
    "labels_ignore": (np.int64, ()),
}


class RaggedArray:
    """Rows of different lengths in one array: row ``i`` is ``data[offsets[i]:offsets[i+1]]``.

    Args:
        data: ``[M, ...]`` all rows concatenated.
        offsets: ``int64[N + 1]``, ``offsets[0] == 0``, ``offsets[-1] == M``.
    """

    __slots__ = ("data", "offsets")

    def __init__(self, data: np.ndarray, offsets: np.ndarray) -> None:
        offsets = np.asarray(offsets, dtype=np.int64)
        if offsets.ndim != 1 or len(offsets) < 1 or offsets[0] != 0 \
                or offsets[-1] != len(data) or np.any(np.diff(offsets) < 0):
            raise ValueError(f"bad offsets {offsets} for data of length {len(data)}")
        self.data = data
        self.offsets = offsets

    @classmethod
    def from_rows(cls, rows: Sequence[np.ndarray], dtype: Any = None,
                  tail: tuple[int, ...] | None = None) -> RaggedArray:
        """Concatenate ``rows`` (each ``[n_i, *tail]``; empty rows may have any shape)."""
        rows = [np.asarray(r) for r in rows]
        if dtype is None:
            full = {r.dtype for r in rows if r.size} or {r.dtype for r in rows} or {np.float64}
            dtype = np.result_type(*full)
        if tail is None:
            tail = next((r.shape[1:] for r in rows if r.size), ())
        rows = [r.reshape((-1, *tail)) if r.size == 0 else r for r in rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=offsets[1:])
        data = (np.concatenate(rows).astype(dtype, copy=False) if rows
                else np.zeros((0, *tail), dtype=dtype))
        return cls(data, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        """A copy of row ``i`` (a copy, so callers cannot write into the shared buffer)."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for {n} rows")
        i %= n
        return self.data[self.offsets[i]:self.offsets[i + 1]].copy()

    def lengths(self) -> np.ndarray:
        """``int64[N]`` number of rows of each entry."""
        return np.diff(self.offsets)

    def row_ids(self) -> np.ndarray:
        """``int64[M]``: for each element of ``data``, the entry it belongs to."""
        return np.repeat(np.arange(len(self), dtype=np.int64), self.lengths())

    def select(self, indices: Iterable[int]) -> RaggedArray:
        """A new ragged array with the entries ``indices`` (in that order)."""
        idx = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices,
                         dtype=np.int64)
        n = len(self)
        idx = np.where(idx < 0, idx + n, idx)
        if len(idx) and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"indices out of range for {n} rows")
        starts = self.offsets[idx]
        lens = self.offsets[idx + 1] - starts
        offsets = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        if len(idx) == n and np.array_equal(idx, np.arange(n)):
            return RaggedArray(self.data, self.offsets)  # buffers are never written: share
        if np.all(np.diff(idx) > 0):  # a filter: one byte per element, not an int64 index
            keep = np.zeros(n, dtype=bool)
            keep[idx] = True
            return RaggedArray(self.data[np.repeat(keep, self.lengths())], offsets)
        gather = np.repeat(starts - offsets[:-1], lens) + np.arange(offsets[-1])
        return RaggedArray(self.data[gather], offsets)

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes + self.offsets.nbytes)


class _ScalarColumn:
    """One number or string per image."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def get(self, i: int) -> Any:
        v = self.values[i]
        return v.decode("utf-8") if self.values.dtype.kind == "S" else v.item()

    def select(self, idx: np.ndarray) -> _ScalarColumn:
        return _ScalarColumn(self.values[idx])

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes)


class _ArrayColumn:
    """A numeric array per image (``bboxes``, ``labels``...), stored ragged."""

    def __init__(self, ragged: RaggedArray) -> None:
        self.ragged = ragged

    def get(self, i: int) -> np.ndarray:
        return self.ragged[i]

    def select(self, idx: np.ndarray) -> _ArrayColumn:
        return _ArrayColumn(self.ragged.select(idx))

    @property
    def nbytes(self) -> int:
        return self.ragged.nbytes


class _ObjectColumn:
    """Any picklable value per image, pickled into one byte buffer (empty = key absent)."""

    def __init__(self, ragged: RaggedArray) -> None:
        self.ragged = ragged

    @classmethod
    def from_values(cls, values: Sequence[Any]) -> _ObjectColumn:
        blobs = [b"" if v is _MISSING else pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)
                 for v in values]
        offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in blobs], out=offsets[1:])
        data = np.frombuffer(b"".join(blobs), dtype=np.uint8).copy()
        return cls(RaggedArray(data, offsets))

    def get(self, i: int) -> Any:
        start, end = self.ragged.offsets[i], self.ragged.offsets[i + 1]
        if start == end:
            return _MISSING
        return pickle.loads(self.ragged.data[start:end].tobytes())

    def select(self, idx: np.ndarray) -> _ObjectColumn:
        return _ObjectColumn(self.ragged.select(idx))

    @property
    def nbytes(self) -> int:
        return self.ragged.nbytes


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _scalar_column(values: list[Any]) -> _ScalarColumn | _ObjectColumn:
    """The most compact column that gives back exactly ``values``."""
    if values and all(type(v) is bool for v in values):
        return _ScalarColumn(np.array(values, dtype=bool))
    if values and all(_is_int(v) for v in values):
        try:
            return _ScalarColumn(np.array(values, dtype=np.int64))
        except OverflowError:
            pass
    if values and all(isinstance(v, (float, np.floating)) for v in values):
        return _ScalarColumn(np.array(values, dtype=np.float64))
    if values and all(isinstance(v, str) for v in values):
        encoded = [v.encode("utf-8") for v in values]
        if not any(b.endswith(b"\x00") for b in encoded):
            return _ScalarColumn(np.array(encoded, dtype=bytes))
    return _ObjectColumn.from_values(values)


def _array_column(key: str, values: list[Any]) -> _ArrayColumn | _ObjectColumn:
    """A ragged numeric column when every image has a numeric array for ``key``.

    v2's ``bboxes``/``bboxes_ignore``/``labels``/``labels_ignore`` are converted to their
    documented dtypes and shapes (lists from a json file included).
    """
    if any(v is _MISSING for v in values):
        return _ObjectColumn.from_values([_MISSING if v is _NO_ANN else v for v in values])
    if key in _ANN_FORMATS:
        values = [() if v is _NO_ANN else v for v in values]
        dtype, tail = _ANN_FORMATS[key]
        shape = f"(n, {tail[0]})" if tail else "(n,)"
        rows = []
        for i, v in enumerate(values):
            try:
                r = np.asarray(v, dtype=dtype)
            except (TypeError, ValueError) as err:
                raise ValueError(f"image {i}: must be numbers of shape {shape}: {err}") from err
            bad = (r.size and r.shape[-1:] != tail) if tail else r.ndim > 1
            if bad:
                raise ValueError(f"image {i}: must have shape {shape}, got {r.shape}")
            rows.append(r.reshape((-1, *tail)))
        return _ArrayColumn(RaggedArray.from_rows(rows, dtype, tail))
    # Other keys are stored ragged only when they already are numeric arrays, so that every
    # value comes back with the type it went in with (lists stay lists).
    given = [v for v in values if v is not _NO_ANN]
    if all(isinstance(v, np.ndarray) and v.dtype.kind in "biuf" and v.ndim >= 1
           for v in given) and len({v.shape[1:] for v in given if v.size}) <= 1:
        empty = np.zeros((0, *next((v.shape[1:] for v in given if v.size), ())),
                         dtype=np.result_type(*{v.dtype for v in given}))
        return _ArrayColumn(RaggedArray.from_rows([empty if v is _NO_ANN else v
                                                   for v in values]))
    return _ObjectColumn.from_values([_MISSING if v is _NO_ANN else v for v in values])


Column = Any  # _ScalarColumn | _ArrayColumn | _ObjectColumn


class AnnotationStore:
    """Per-image info dicts (and their ``ann`` dicts) stored column-wise.

    Build with :meth:`from_infos` from v2's list of dicts; read with :meth:`info` and
    :meth:`ann`, which build fresh dicts (and array copies) on every call.

    Args:
        info_columns: one column per key of the info dicts.
        ann_columns: one column per key of the ``ann`` dicts.
        has_ann: ``bool[N]`` whether image ``i`` had an ``ann`` dict (None: all or none).
        num_images: N.
    """

    def __init__(self, info_columns: dict[str, Column], ann_columns: dict[str, Column],
                 has_ann: np.ndarray | None, num_images: int) -> None:
        self.info_columns = info_columns
        self.ann_columns = ann_columns
        self.has_ann = has_ann
        self.num_images = num_images

    @classmethod
    def from_infos(cls, infos: Sequence[dict], ann_key: str = "ann") -> AnnotationStore:
        """Compact a list of v2 per-image dicts (the list can then be dropped)."""
        for i, info in enumerate(infos):
            if not isinstance(info, dict):
                raise TypeError(f"image {i}: expected a dict, got {type(info).__name__}")
        keys = list(dict.fromkeys(k for info in infos for k in info if k != ann_key))
        info_columns = {k: _scalar_column([info.get(k, _MISSING) for info in infos])
                        for k in keys}
        anns = [info.get(ann_key) for info in infos]
        present = np.array([a is not None for a in anns], dtype=bool)
        ann_keys = list(dict.fromkeys(k for a in anns if a is not None for k in a))
        ann_columns = {}
        for k in ann_keys:
            try:
                ann_columns[k] = _array_column(
                    k, [a.get(k, _MISSING) if a is not None else _NO_ANN for a in anns])
            except ValueError as err:
                raise ValueError(f"{ann_key}['{k}']: {err}") from err
        has_ann = None if present.all() or not present.any() else present
        if not present.any():
            ann_columns = {}
        return cls(info_columns, ann_columns, has_ann, len(infos))

    def __len__(self) -> int:
        return self.num_images

    def _check(self, i: int) -> int:
        if not -self.num_images <= i < self.num_images:
            raise IndexError(f"image index {i} out of range for {self.num_images} images")
        return int(i) % self.num_images

    def info(self, i: int, with_ann: bool = False) -> dict[str, Any]:
        """A fresh per-image dict (``ann`` included when ``with_ann``)."""
        i = self._check(i)
        out = {}
        for key, col in self.info_columns.items():
            if key.startswith("_"):
                continue
            value = col.get(i)
            if value is not _MISSING:
                out[key] = value
        if with_ann and self.ann_columns and (self.has_ann is None or self.has_ann[i]):
            out["ann"] = self.ann(i)
        return out

    def ann(self, i: int, hidden: bool = False) -> dict[str, Any]:
        """A fresh ``ann`` dict of image ``i`` (internal ``_`` keys only when ``hidden``)."""
        i = self._check(i)
        out = {}
        for key, col in self.ann_columns.items():
            if key.startswith("_") and not hidden:
                continue
            value = col.get(i)
            if value is not _MISSING:
                out[key] = value
        return out

    def get(self, key: str, i: int) -> Any:
        """One value: an info key, or ``'ann.<key>'``; ``None`` when absent."""
        i = self._check(i)
        if key.startswith("ann."):
            col = self.ann_columns.get(key[4:])
        else:
            col = self.info_columns.get(key)
        value = _MISSING if col is None else col.get(i)
        return None if value is _MISSING else value

    def scalars(self, key: str) -> np.ndarray | None:
        """The numpy array of a per-image number/string key, or ``None`` if not stored so."""
        col = self.info_columns.get(key)
        return col.values if isinstance(col, _ScalarColumn) else None

    def ragged(self, key: str) -> RaggedArray | None:
        """The ragged array of an ``ann`` key, or ``None`` if not stored so."""
        col = self.ann_columns.get(key)
        return col.ragged if isinstance(col, _ArrayColumn) else None

    def select(self, indices: Iterable[int]) -> AnnotationStore:
        """A new store with the images ``indices``, in that order."""
        idx = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices,
                         dtype=np.int64).reshape(-1)
        return AnnotationStore(
            {k: c.select(idx) for k, c in self.info_columns.items()},
            {k: c.select(idx) for k, c in self.ann_columns.items()},
            None if self.has_ann is None else self.has_ann[idx],
            len(idx),
        )

    def buffers(self) -> list[np.ndarray]:
        """Every numpy array the store holds."""
        out = []
        for col in (*self.info_columns.values(), *self.ann_columns.values()):
            if isinstance(col, _ScalarColumn):
                out.append(col.values)
            else:
                out += [col.ragged.data, col.ragged.offsets]
        if self.has_ann is not None:
            out.append(self.has_ann)
        return out

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for b in self.buffers())

    def __repr__(self) -> str:
        return (f"AnnotationStore({self.num_images} images, keys={list(self.info_columns)}, "
                f"ann keys={list(self.ann_columns)}, {self.nbytes / 2**20:.1f} MiB)")


class DataInfos(Sequence):
    """Read-only sequence of v2's per-image dicts, each built when it is accessed."""

    def __init__(self, store: AnnotationStore, with_ann: bool) -> None:
        self._store = store
        self._with_ann = with_ann

    def __len__(self) -> int:
        return len(self._store)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self._store.info(i, self._with_ann)

    def __add__(self, other: Sequence) -> list:
        return list(self) + list(other)

    def __radd__(self, other: Sequence) -> list:
        return list(other) + list(self)

    def __repr__(self) -> str:
        return f"DataInfos({len(self)} images, built on access)"


class ColumnView(Sequence):
    """Read-only sequence of one per-image value as Python scalars (``img_ids``)."""

    def __init__(self, values: np.ndarray) -> None:
        self._values = values

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        v = self._values[i]
        return v.decode("utf-8") if self._values.dtype.kind == "S" else v.item()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"ColumnView({list(self[:5])}{'...' if len(self) > 5 else ''})"
