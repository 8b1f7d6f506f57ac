"""The API-coverage table (tools/api_coverage.py): every difference from transformers / accelerate / datasets
is explained in tools/api_coverage_notes.json, and docs/api-coverage.md is what the script writes today."""

import importlib
import inspect
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
api_coverage = importlib.import_module("api_coverage")


@pytest.fixture(scope="module")
def table():
    return api_coverage.build()


def test_every_difference_is_explained(table):
    _, unexplained = table
    listed = "\n".join(f"  {d.key}: {d.kind} {d.detail}" for d in unexplained)
    assert not unexplained, (f"{len(unexplained)} differences have no note in tools/api_coverage_notes.json "
                             f"(add one, or fix the signature):\n{listed}")  # fmt: skip


def test_committed_page_is_current(table):
    entries, _ = table
    expected = api_coverage.render(entries)
    assert api_coverage.PAGE.read_text() == expected, "docs/api-coverage.md is stale: run python tools/api_coverage.py"


def test_the_table_covers_the_requested_references(table):
    entries, _ = table
    references = {e.reference for e in entries}
    for name in ("accelerate.Accelerator", "datasets.Dataset", "datasets.DatasetDict", "datasets.IterableDataset",
                 "datasets.load_dataset", "transformers.Trainer", "transformers.TrainingArguments",
                 "transformers.PreTrainedModel", "transformers.BertTokenizer", "transformers.pipeline"):  # fmt: skip
        assert name in references, name
    assert all(0 <= e.matched <= e.total for e in entries)


def test_the_comparison_sees_missing_parameters_defaults_and_order():
    """A reference and a re-telling written here: each kind of difference is found, and a note (exact or
    pattern, the longest winning) explains it."""

    def reference(text, pair, *, padding=False, truncation=None, max_length=None):
        pass

    def ours(pair, text, *, padding=True, **kwargs):
        pass

    entry = api_coverage.Entry("tok", "ref.tok")
    api_coverage.compare_callable("tok", reference, ours, entry, drop_self=False)
    kinds = {d.key: d.kind for d in entry.differences}
    assert kinds == {"tok(padding)": "default", "tok(truncation)": "only through **kwargs",
                     "tok(max_length)": "only through **kwargs", "tok(*order)": "positional order"}  # fmt: skip
    assert (entry.matched, entry.total) == (3, 6)  # present + text + pair, of 1 + 5 parameters
    notes = {"notes": {"tok(*)": "generic", "tok(padding)": "exact", "tok(*_length)": "longer pattern"}}
    assert api_coverage.explain([entry], notes) == []
    assert {d.key: d.note for d in entry.differences} == {"tok(padding)": "exact", "tok(truncation)": "generic",
                                                          "tok(max_length)": "longer pattern",
                                                          "tok(*order)": "generic"}  # fmt: skip
    unexplained = api_coverage.explain([entry], {"notes": {"tok(padding)": "exact"}})
    assert [d.key for d in unexplained] == ["tok(truncation)", "tok(max_length)", "tok(*order)"]
    missing = api_coverage.Entry("tok", "ref.tok")
    api_coverage.compare_callable("tok", reference, None, missing, drop_self=False)
    assert [(d.key, d.kind) for d in missing.differences] == [("tok", "missing method")]
    assert (missing.matched, missing.total) == (0, 6)
    assert inspect.signature(reference)  # the helpers above are real functions
