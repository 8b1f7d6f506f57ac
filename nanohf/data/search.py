"""Nearest-neighbour search over a column of vectors: `add_faiss_index`, `get_nearest_examples`, as 🤗 datasets.

    embeddings = ds.map(lambda x: {"embeddings": embed(x["text"])})
    embeddings.add_faiss_index(column="embeddings")                  # squared L2 distance, as faiss.IndexFlat
    scores, examples = embeddings.get_nearest_examples("embeddings", query_vector, k=5)

The index is exact (every vector is compared with the query), with faiss' two metrics:

    METRIC_L2              score = ||q - v||²   smallest first   (faiss' default, and 🤗 datasets')
    METRIC_INNER_PRODUCT   score = q · v        largest first    (cosine similarity for unit vectors)

When the `faiss` package is installed the index is a faiss index (so `string_factory="IVF..."` and
`custom_index=` work as in 🤗 datasets); otherwise `NumpyIndex` computes the same scores with one matrix
product per batch of queries (float64 inside, float32 out like faiss). Asking for more neighbours than
there are vectors gives index -1 with faiss' sentinel score (∓3.4e38); `get_nearest_examples` drops them.
"""

import os
from typing import NamedTuple

import numpy as np

METRIC_INNER_PRODUCT = 0  # faiss.METRIC_INNER_PRODUCT
METRIC_L2 = 1  # faiss.METRIC_L2
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class SearchResults(NamedTuple):
    scores: np.ndarray  # (k,)
    indices: np.ndarray  # (k,)


class BatchedSearchResults(NamedTuple):
    total_scores: np.ndarray  # (queries, k)
    total_indices: np.ndarray  # (queries, k)


class NearestExamplesResults(NamedTuple):
    scores: np.ndarray
    examples: dict


class BatchedNearestExamplesResults(NamedTuple):
    total_scores: list
    total_examples: list


class MissingIndex(KeyError):
    pass


def _faiss():
    try:
        import faiss
    except ImportError:
        return None
    return faiss


class NumpyIndex:
    """An exact flat index (faiss' IndexFlat) in NumPy: `add(vectors)`, `search(queries, k) -> (D, I)`."""

    def __init__(self, dim, metric_type=METRIC_L2):
        if metric_type not in (METRIC_L2, METRIC_INNER_PRODUCT):
            raise ValueError(f"metric_type must be METRIC_L2 (1) or METRIC_INNER_PRODUCT (0), not {metric_type!r}")
        self.d, self.metric_type = int(dim), metric_type
        self.vectors = np.zeros((0, self.d), dtype=np.float32)

    @property
    def ntotal(self):
        return len(self.vectors)

    def add(self, vectors):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.d:
            raise ValueError(f"vectors must have shape (n, {self.d}), got {vectors.shape}")
        self.vectors = np.concatenate([self.vectors, vectors])

    def search(self, queries, k):
        """queries (q, d) -> (scores (q, k) float32, indices (q, k) int64), best first; ties: lower index first."""
        queries = np.asarray(queries, dtype=np.float64)
        vectors = self.vectors.astype(np.float64)
        products = queries @ vectors.T  # (q, n)
        if self.metric_type == METRIC_INNER_PRODUCT:
            keys, sentinel = -products, -_FLOAT32_MAX
            scores_of = products
        else:  # ||q - v||² = ||q||² - 2 q·v + ||v||², clipped at 0 against rounding
            scores_of = np.maximum((queries**2).sum(1)[:, None] - 2 * products + (vectors**2).sum(1)[None, :], 0)
            keys, sentinel = scores_of, _FLOAT32_MAX
        n, take = self.ntotal, min(k, self.ntotal)
        order = np.argsort(keys, axis=1, kind="stable")[:, :take]
        scores = np.full((len(queries), k), sentinel, dtype=np.float32)
        indices = np.full((len(queries), k), -1, dtype=np.int64)
        if n:
            scores[:, :take] = np.take_along_axis(scores_of, order, axis=1)
            indices[:, :take] = order
        return scores, indices


def _new_index(dim, string_factory, metric_type):
    """A faiss index when faiss is installed (as 🤗 datasets builds it), else a NumpyIndex."""
    faiss = _faiss()
    if faiss is not None:
        if string_factory is not None:
            if metric_type is None:
                return faiss.index_factory(dim, string_factory)
            return faiss.index_factory(dim, string_factory, metric_type)
        return faiss.IndexFlat(dim) if metric_type is None else faiss.IndexFlat(dim, metric_type)
    if string_factory not in (None, "Flat"):
        raise ImportError(f"string_factory={string_factory!r} needs the `faiss` package (pip install faiss-cpu); "
                          "without it nanohf's exact NumPy index (string_factory=None or 'Flat') is used.")
    return NumpyIndex(dim, METRIC_L2 if metric_type is None else metric_type)


class VectorIndex:
    """One index of a data set: a faiss (or NumPy) index over its rows' vectors."""

    def __init__(self, device=None, string_factory=None, metric_type=None, custom_index=None):
        if device is not None:
            raise ValueError("device=: nanohf runs on the CPU only; leave device=None")
        self.string_factory, self.metric_type = string_factory, metric_type
        self.faiss_index = custom_index

    def add_vectors(self, vectors, batch_size=1000, train_size=None):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"Vectors must form a 2-D array (rows, dim), got shape {vectors.shape}: every row "
                             "needs a vector of the same length")
        if self.faiss_index is None:
            self.faiss_index = _new_index(vectors.shape[1], self.string_factory, self.metric_type)
        if train_size is not None and hasattr(self.faiss_index, "train") and not self.faiss_index.is_trained:
            self.faiss_index.train(vectors[:train_size])
        elif hasattr(self.faiss_index, "is_trained") and not self.faiss_index.is_trained:
            self.faiss_index.train(vectors)
        for start in range(0, len(vectors), batch_size):
            self.faiss_index.add(np.ascontiguousarray(vectors[start:start + batch_size]))

    def search(self, query, k=10, **kwargs):
        query = np.asarray(query, dtype=np.float32)
        if query.ndim != 1 and (query.ndim != 2 or query.shape[0] != 1):
            raise ValueError("Shape of query is incorrect, it has to be either a 1D array or 2D (1, N)")
        scores, indices = self.faiss_index.search(np.ascontiguousarray(query.reshape(1, -1)), k, **kwargs)
        return SearchResults(scores[0], indices[0].astype(int))

    def search_batch(self, queries, k=10, **kwargs):
        queries = np.asarray(queries, dtype=np.float32)
        if queries.ndim != 2:
            raise ValueError("Shape of query must be 2D")
        scores, indices = self.faiss_index.search(np.ascontiguousarray(queries), k, **kwargs)
        return BatchedSearchResults(scores, indices.astype(int))

    def save(self, file):
        """A faiss index with faiss.write_index; a NumpyIndex as an .npz of plain arrays (no pickle)."""
        if isinstance(self.faiss_index, NumpyIndex):
            with open(file, "wb") as f:
                np.savez(f, vectors=self.faiss_index.vectors, metric_type=np.array(self.faiss_index.metric_type))
            return
        _require_faiss("save_faiss_index").write_index(self.faiss_index, os.fspath(file))

    @classmethod
    def load(cls, file):
        index = cls()
        with open(file, "rb") as f:
            head = f.read(4)
        if head.startswith(b"PK"):  # our .npz
            with np.load(file, allow_pickle=False) as data:
                vectors = data["vectors"]
                index.faiss_index = NumpyIndex(vectors.shape[1], int(data["metric_type"]))
                index.faiss_index.add(vectors)
        else:
            index.faiss_index = _require_faiss("load_faiss_index of a faiss file").read_index(os.fspath(file))
        return index


def _require_faiss(what):
    faiss = _faiss()
    if faiss is None:
        raise ImportError(f"{what} needs the `faiss` package: pip install faiss-cpu")
    return faiss


class IndexableMixin:
    """The index methods of `Dataset` (🤗 datasets' IndexableMixin): indexes live on this Dataset object only."""

    @property
    def _indexes(self):
        if "_indexes_store" not in self.__dict__:
            self.__dict__["_indexes_store"] = {}
        return self.__dict__["_indexes_store"]

    def add_faiss_index(self, column, index_name=None, device=None, string_factory=None, metric_type=None,
                        custom_index=None, batch_size=1000, train_size=None, faiss_verbose=False, dtype=np.float32):
        """Index the vectors of `column` (a List of numbers per row) under `index_name` (default: the column)."""
        if column not in self.column_names:
            raise ValueError(f"Column {column!r} not in the dataset. Current columns in the dataset: "
                             f"{self.column_names}")
        vectors = self.with_format("numpy", columns=[column])[column]
        if vectors.dtype == object or vectors.ndim != 2:
            raise ValueError(f"Wrong feature type for column '{column}'. Expected 1d array, got "
                             f"{self.features[column]} (every row must hold a vector of the same length)")
        return self.add_faiss_index_from_external_arrays(vectors.astype(dtype), index_name or column, device,
                                                         string_factory, metric_type, custom_index, batch_size,
                                                         train_size, faiss_verbose, dtype)

    def add_faiss_index_from_external_arrays(self, external_arrays, index_name, device=None, string_factory=None,
                                             metric_type=None, custom_index=None, batch_size=1000, train_size=None,
                                             faiss_verbose=None, dtype=np.float32):
        """Index vectors given as an array (rows, dim) whose row i belongs to example i."""
        external_arrays = np.asarray(external_arrays, dtype=dtype)
        if len(external_arrays) != len(self):
            raise ValueError(f"external_arrays has {len(external_arrays)} rows for a dataset of {len(self)} examples")
        index = VectorIndex(device, string_factory, metric_type, custom_index)
        index.add_vectors(external_arrays, batch_size, train_size)
        self._indexes[index_name] = index
        return self

    def is_index_initialized(self, index_name):
        return index_name in self._indexes

    def _check_index_is_initialized(self, index_name):
        if not self.is_index_initialized(index_name):
            raise MissingIndex(f"Index with index_name '{index_name}' not initialized yet. Please make sure that you "
                               "call `add_faiss_index` or `add_elasticsearch_index` first.")

    def list_indexes(self):
        return list(self._indexes)

    def get_index(self, index_name):
        self._check_index_is_initialized(index_name)
        return self._indexes[index_name]

    def drop_index(self, index_name):
        del self._indexes[index_name]

    def save_faiss_index(self, index_name, file, storage_options=None):
        self.get_index(index_name).save(file)

    def load_faiss_index(self, index_name, file, device=None, storage_options=None):
        index = VectorIndex.load(file)
        if index.faiss_index.ntotal != len(self):
            raise ValueError(f"Index size should match Dataset size, but Index '{index_name}' at {file} has "
                             f"{index.faiss_index.ntotal} elements while the dataset has {len(self)} examples.")
        self._indexes[index_name] = index

    def add_elasticsearch_index(self, *args, **kwargs):
        raise NotImplementedError("add_elasticsearch_index needs an Elasticsearch server; nanohf offers the "
                                  "vector index (add_faiss_index) only.")

    def search(self, index_name, query, k=10, **kwargs):
        """(scores, indices) of the k nearest rows to one query vector."""
        return self.get_index(index_name).search(query, k, **kwargs)

    def search_batch(self, index_name, queries, k=10, **kwargs):
        """(total_scores, total_indices), (queries, k) each."""
        return self.get_index(index_name).search_batch(queries, k, **kwargs)

    def get_nearest_examples(self, index_name, query, k=10, **kwargs):
        """(scores, examples): the k nearest rows as a dict of columns, nearest first."""
        scores, indices = self.search(index_name, query, k, **kwargs)
        top = [int(i) for i in indices if i >= 0]
        return NearestExamplesResults(scores[:len(top)], self[top])

    def get_nearest_examples_batch(self, index_name, queries, k=10, **kwargs):
        total_scores, total_indices = self.search_batch(index_name, queries, k, **kwargs)
        kept = [[int(i) for i in indices if i >= 0] for indices in total_indices]
        return BatchedNearestExamplesResults([s[:len(t)] for s, t in zip(total_scores, kept, strict=True)],
                                             [self[t] for t in kept])
