"""add_faiss_index / get_nearest_examples / search(_batch): nanohf's exact NumPy index against faiss (and
against 🤗 datasets' faiss index) on random vectors and on MiniLM sentence embeddings of shipped data."""

import importlib
from pathlib import Path

import faiss
import numpy as np
import pytest

import nanohf
from nanohf.data import Dataset, disable_progress_bars, load_glue
from nanohf.data import search as search_module

ROOT = Path(__file__).resolve().parents[1]
SCORE_TOL = 1e-4  # relative: faiss computes in float32, NumpyIndex in float64 rounded to float32


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOHF_CACHE", str(tmp_path / "nanohf-cache"))
    disable_progress_bars()


@pytest.fixture
def numpy_only(monkeypatch):
    """nanohf as it runs without faiss installed."""
    monkeypatch.setattr(search_module, "_faiss", lambda: None)


@pytest.fixture(scope="module")
def hf():
    datasets = importlib.import_module("datasets")
    datasets.disable_progress_bars()
    return datasets


def faiss_search(vectors, queries, k, metric):
    index = faiss.IndexFlat(vectors.shape[1], metric)
    index.add(vectors)
    return index.search(queries, k)


def assert_agree(scores, indices, want_scores, want_indices, what):
    diff = float(np.max(np.abs(scores - want_scores) / np.maximum(1.0, np.abs(want_scores))))
    assert diff < SCORE_TOL, f"{what}: max relative score difference {diff:.2e}"
    np.testing.assert_array_equal(indices, want_indices, err_msg=f"{what}: other neighbours than faiss")
    return diff


@pytest.mark.parametrize("metric", [faiss.METRIC_L2, faiss.METRIC_INNER_PRODUCT])
def test_numpy_index_matches_faiss_on_random_vectors(metric):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((500, 48)).astype(np.float32)
    queries = rng.standard_normal((20, 48)).astype(np.float32)
    index = search_module.NumpyIndex(48, metric)
    index.add(vectors[:300])
    index.add(vectors[300:])  # added in two steps, as add_vectors does in batches
    for k in (1, 10, 500, 520):  # 520 > rows: index -1 and faiss' sentinel score
        scores, indices = index.search(queries, k)
        want_scores, want_indices = faiss_search(vectors, queries, k, metric)
        assert_agree(scores, indices, want_scores, want_indices, f"metric {metric}, k={k}")
        assert scores.dtype == want_scores.dtype == np.float32


@pytest.mark.parametrize("metric", [None, faiss.METRIC_INNER_PRODUCT])
def test_dataset_index_without_faiss_matches_with_faiss_and_hf(hf, numpy_only, metric):
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((60, 16)).astype(np.float32)
    rows = {"text": [f"doc {i}" for i in range(60)], "emb": vectors.tolist()}
    ours = Dataset.from_dict(rows).add_faiss_index(column="emb", metric_type=metric)
    assert isinstance(ours.get_index("emb").faiss_index, search_module.NumpyIndex)
    theirs = hf.Dataset.from_dict(rows)
    theirs.add_faiss_index(column="emb", metric_type=metric)
    query = rng.standard_normal(16).astype(np.float32)
    scores, examples = ours.get_nearest_examples("emb", query, k=5)
    hf_scores, hf_examples = theirs.get_nearest_examples("emb", query, k=5)
    assert_agree(scores, np.array(examples["text"]), hf_scores, np.array(hf_examples["text"]), "nearest examples")
    queries = rng.standard_normal((4, 16)).astype(np.float32)
    total_scores, total_indices = ours.search_batch("emb", queries, k=3)
    hf_scores, hf_indices = theirs.search_batch("emb", queries, k=3)
    assert_agree(total_scores, total_indices, hf_scores, hf_indices, "search_batch")
    scores, indices = ours.search("emb", query[None, :], k=61)
    assert indices[-1] == -1 and len(ours.get_nearest_examples("emb", query, k=61).examples["text"]) == 60
    batch_scores, batch_examples = ours.get_nearest_examples_batch("emb", queries, k=2)
    assert len(batch_examples) == 4 and batch_examples[0]["text"] == [f"doc {i}" for i in total_indices[0][:2]]


def test_external_arrays_save_load_and_errors(numpy_only, tmp_path):
    ds = Dataset.from_dict({"id": list(range(10))})
    vectors = np.eye(10, dtype=np.float32)
    ds.add_faiss_index_from_external_arrays(vectors, "eye", metric_type=search_module.METRIC_INNER_PRODUCT)
    assert ds.list_indexes() == ["eye"] and ds.search("eye", vectors[3], k=1).indices.tolist() == [3]
    ds.save_faiss_index("eye", tmp_path / "eye.npz")
    other = Dataset.from_dict({"id": list(range(10))})
    other.load_faiss_index("eye", tmp_path / "eye.npz")
    assert other.get_nearest_examples("eye", vectors[7], k=1).examples["id"] == [7]
    ds.drop_index("eye")
    with pytest.raises(search_module.MissingIndex, match="not initialized yet"):
        ds.search("eye", vectors[0])
    with pytest.raises(ValueError, match="Wrong feature type"):
        Dataset.from_dict({"emb": [[1.0], [1.0, 2.0]]}).add_faiss_index("emb")
    with pytest.raises(ImportError, match="faiss"):
        Dataset.from_dict({"emb": [[1.0]] * 4}).add_faiss_index("emb", string_factory="IVF2,Flat")
    with pytest.raises(ValueError, match="Shape of query"):
        Dataset.from_dict({"emb": [[1.0]] * 4}).add_faiss_index("emb").search("emb", np.ones((2, 1)))


def test_faiss_used_when_installed_with_string_factory():
    vectors = np.random.default_rng(2).standard_normal((40, 8)).astype(np.float32)
    ds = Dataset.from_dict({"emb": vectors.tolist()}).add_faiss_index("emb", string_factory="Flat")
    assert isinstance(ds.get_index("emb").faiss_index, faiss.Index)
    assert ds.search("emb", vectors[5], k=1).indices.tolist() == [5]


@pytest.fixture(scope="module")
def minilm_embeddings(minilm_dir):
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 embeddings of 48 SST-2 dev sentences (nanohf's AutoModel)."""
    tokenizer = nanohf.AutoTokenizer.from_pretrained(minilm_dir)
    model = nanohf.AutoModel.from_pretrained(minilm_dir)
    sentences = load_glue("sst2", split="validation")["sentence"][:48]

    def embed(texts):
        inputs = tokenizer(texts, padding=True, truncation=True, return_tensors="np")
        hidden = np.asarray(model(**inputs).last_hidden_state)
        mask = inputs["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    return sentences, embed(sentences), embed


def test_minilm_semantic_search_numpy_vs_faiss(hf, minilm_embeddings, monkeypatch):
    sentences, vectors, embed = minilm_embeddings
    queries = embed(["a wonderful, moving film", "the plot makes no sense and it is boring"])
    results = {}
    for backend in ("faiss", "numpy"):
        if backend == "numpy":
            monkeypatch.setattr(search_module, "_faiss", lambda: None)
        for metric in (search_module.METRIC_L2, search_module.METRIC_INNER_PRODUCT):
            ds = Dataset.from_dict({"sentence": sentences, "embeddings": vectors.tolist()})
            ds.add_faiss_index(column="embeddings", metric_type=metric)
            results[backend, metric] = ds.search_batch("embeddings", queries, k=5)
    theirs = hf.Dataset.from_dict({"sentence": sentences, "embeddings": vectors.tolist()})
    for metric in (search_module.METRIC_L2, search_module.METRIC_INNER_PRODUCT):
        theirs.add_faiss_index(column="embeddings", metric_type=metric)
        hf_scores, hf_indices = theirs.search_batch("embeddings", queries, k=5)
        for backend in ("faiss", "numpy"):
            scores, indices = results[backend, metric]
            assert_agree(scores, indices, hf_scores, hf_indices, f"MiniLM {backend} metric {metric}")
        theirs.drop_index("embeddings")
    # Unit vectors: inner product = 1 - L2² / 2, so both metrics rank alike.
    np.testing.assert_array_equal(results["numpy", 0].total_indices, results["numpy", 1].total_indices)
    ds = Dataset.from_dict({"sentence": sentences, "embeddings": vectors.tolist()}).add_faiss_index("embeddings")
    scores, samples = ds.get_nearest_examples("embeddings", queries[0], k=3)
    assert samples["sentence"] == [sentences[i] for i in results["numpy", 1].total_indices[0][:3]]
