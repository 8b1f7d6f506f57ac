"""A bounded, seeded fuzz of config.json fields and model inputs, every family, each run in a subprocess.

tests/fuzz_worker.py changes one config field (or one model argument, or two ``generate`` settings)
to a junk value per case and classifies what happens: a clear error (a ValueError / TypeError /
OSError naming the field, file or argument), a correct load or result (finite outputs), or anything
else — an unclear error, a silent NaN, a crash (the subprocess dies of a signal) or a hang (timeout).
Only the first two are allowed. A longer budget by hand: NANOHF_FUZZ_CASES=3000 python -m pytest
tests/test_fuzz_models.py -s (prints the counts).
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import TINY_BERT, TINY_DISTILBERT

CASES = int(os.environ.get("NANOHF_FUZZ_CASES", "120"))
WORKER = Path(__file__).with_name("fuzz_worker.py")
TINY_GPT2 = dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64)
TINY_BART = dict(
    vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
    decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64,
)  # fmt: skip
TINY_LLAMA = dict(vocab_size=99, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=64)
FAMILIES = {
    "BertForSequenceClassification": TINY_BERT,
    "BertForQuestionAnswering": TINY_BERT,
    "DistilBertForTokenClassification": TINY_DISTILBERT,
    "RobertaForMaskedLM": {**TINY_BERT, "max_position_embeddings": 70},
    "GPT2LMHeadModel": TINY_GPT2,
    "BartForConditionalGeneration": TINY_BART,
    "LlamaForCausalLM": TINY_LLAMA,
    "Qwen2ForCausalLM": {**TINY_LLAMA, "use_sliding_window": True, "sliding_window": 3, "max_window_layers": 1},
    "MistralForCausalLM": {**TINY_LLAMA, "sliding_window": 3},
}
ALLOWED = {"clear error", "correct load", "correct result"}


def run_worker(kind: str, folder: Path, seed: int) -> tuple[Counter, list[dict]]:
    result = subprocess.run(
        [sys.executable, str(WORKER), kind, str(folder), str(seed), str(CASES)],
        capture_output=True, text=True, timeout=120 + CASES,
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    done = [line for line in lines if "verdict" in line]
    started = [line for line in lines if line.get("status") == "started"]
    assert result.returncode == 0 and len(done) == CASES, (
        f"worker exit code {result.returncode} (negative: a signal) after {len(done)} of {CASES} cases; "
        f"last case started: {started[-1] if started else None}\n{result.stderr[-3000:]}"
    )
    counts = Counter(line["verdict"] for line in done)
    return counts, [line for line in done if line["verdict"] not in ALLOWED]


@pytest.mark.parametrize("kind", ["config", "inputs"])
@pytest.mark.parametrize("architecture", list(FAMILIES))
def test_fuzz(kind, architecture, make_checkpoint):
    folder = make_checkpoint(architecture, FAMILIES[architecture])
    counts, bad = run_worker(kind, folder, seed=sum(map(ord, architecture + kind)))
    print(f"{architecture} {kind}: {dict(counts)}")
    assert not bad, f"{len(bad)} of {CASES} cases neither a clear error nor a correct result: {bad[:4]}"
    if CASES >= 100:  # both verdicts exercised (a short run may draw only junk that must be refused)
        assert counts["clear error"] and (counts["correct load"] or counts["correct result"]), counts
