"""A seeded fuzz of Trainer checkpoint folders and of the shard index, each case in a subprocess.

- ``checkpoint``: a tiny BERT trained 4 steps with checkpoints at steps 3 and 4; each case corrupts one
  file of ``checkpoint-3`` (trainer_state.json, optimizer.json / optimizer.safetensors, scheduler.json,
  rng_state.json, training_args.json, config.json, model.safetensors: byte flips, truncation, JSON edits,
  tensors removed / added / reshaped / retyped, the file deleted) and resumes from it. A case is a clear
  error naming the file, or a resume that ends on the uninterrupted run's weights (or, when a value
  training reads was edited, on finite other weights); anything else fails.
- ``index``: a tiny BERT saved in shards; each case corrupts model.safetensors.index.json and loads the
  folder: a clear error naming the index, or exactly the checkpoint's weights.

Longer by hand: NANOHF_FUZZ_CASES=1000 python -m pytest -q -s tests/test_fuzz_checkpoints.py (prints counts).
"""

import os
import shutil
from collections import Counter

import pytest
from conftest import TINY_BERT
from fuzz_files import drive

import nanohf

CASES = int(os.environ.get("NANOHF_FUZZ_CASES", "0")) or None
# CI cases: a resume costs ~0.3 s, an index load ~0.03 s.
BUDGETS = {"checkpoint": 40, "index": 150}
ALLOWED = {"clear error", "correct load"}


@pytest.fixture(scope="module")
def roots(make_checkpoint, tmp_path_factory):
    root = tmp_path_factory.mktemp("checkpoint-fuzz")
    shutil.copytree(make_checkpoint("BertForSequenceClassification", TINY_BERT), root / "model")
    model = nanohf.BertForSequenceClassification.from_pretrained(root / "model")
    model.save_pretrained(root / "sharded", max_shard_size="20KB")
    assert len(list((root / "sharded").glob("model-*.safetensors"))) > 2
    return root


@pytest.mark.parametrize("kind", list(BUDGETS))
def test_fuzz(kind, roots):
    cases = CASES or BUDGETS[kind]
    done = drive(kind, roots, seed=20, cases=cases, budget=120 + 2 * cases)
    counts = Counter(line["verdict"] for line in done)
    by_file = Counter((line["file"], line["verdict"]) for line in done)
    loads = Counter(line["detail"] for line in done if line["verdict"] == "correct load")
    print(f"{kind}: {len(done)} cases: {dict(counts)}; correct loads: {dict(loads)}")
    print(f"by file: {dict(sorted(by_file.items()))}")
    bad = [line for line in done if line["verdict"] not in ALLOWED]
    assert len(done) == cases and not bad, f"{len(bad)} of {cases} cases failed: {bad[:5]}"
    assert counts["clear error"] and counts["correct load"], counts
