"""Bad model inputs never crash the interpreter: each case runs in its own subprocess.

Compiled kernels do not check bounds, so an unchecked label array shorter than the logit rows, or an
id outside an embedding table, would read past the end of an array: a segmentation fault, or a loss
made of garbage. Each case below must end in a Python exception whose message names the argument;
a subprocess that dies of a signal fails the test instead of killing the test run.
"""

import re
import subprocess
import sys

import pytest
from conftest import TINY_BERT, TINY_DISTILBERT

TINY_GPT2 = dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64)
TINY_BART = dict(
    vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
    decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64,
)  # fmt: skip

IDS = "np.array([[5, 6, 7, 8], [9, 10, 11, 12]])"

# name -> (transformers class of the checkpoint, its config, the call, a regex the error must match)
CASES = {
    "sequence labels too many": (
        "BertForSequenceClassification",
        TINY_BERT,
        f"m({IDS}, labels=np.arange(7000) % 2)",
        r"labels has shape \(7000,\).*batch_size \(2\).*\(7000\)",
    ),
    "sequence labels too few": (
        "BertForSequenceClassification",
        TINY_BERT,
        f"m({IDS}, labels=np.array([0]))",
        r"labels has shape \(1,\)",
    ),
    "token labels too few": (
        "BertForTokenClassification",
        TINY_BERT,
        f"m({IDS}, labels=np.array([[0, 1]]))",
        r"labels has shape \(1, 2\).*need one label per row \(8\)",
    ),
    "masked-LM labels too few": (
        "BertForMaskedLM",
        TINY_BERT,
        f"m({IDS}, labels=np.array([[1]]))",
        r"labels has shape \(1, 1\)",
    ),
    "DistilBERT labels too few": (
        "DistilBertForSequenceClassification",
        TINY_DISTILBERT,
        f"m({IDS}, labels=np.array([1]))",
        r"labels has shape \(1,\)",
    ),
    "QA end positions too many": (
        "BertForQuestionAnswering",
        TINY_BERT,
        f"m({IDS}, start_positions=np.array([1, 2]), end_positions=np.array([2, 3, 4]))",
        r"end_positions has shape \(3,\)",
    ),
    "QA float positions": (
        "BertForQuestionAnswering",
        TINY_BERT,
        f"m({IDS}, start_positions=np.array([1.5, 2]), end_positions=np.array([2, 3]))",
        r"start_positions must be integer",
    ),
    "GPT-2 labels too few": (
        "GPT2LMHeadModel",
        TINY_GPT2,
        f"m({IDS}, labels=np.array([[1, 2]]))",
        r"labels has shape \(1, 2\), expected \(2, 4\)",
    ),
    "GPT-2 labels too long": (
        "GPT2LMHeadModel",
        TINY_GPT2,
        f"m({IDS}, labels=np.ones((2, 400), dtype=int))",
        r"labels has shape \(2, 400\)",
    ),
    "BART labels too few": (
        "BartForConditionalGeneration",
        TINY_BART,
        f"m({IDS}, labels=np.array([[1]]))",
        r"labels has shape \(1, 1\)",
    ),
    "BART generate, id far outside": (
        "BartForConditionalGeneration",
        TINY_BART,
        "m.generate(np.array([[0, 5, 10**9, 2]]), max_new_tokens=3)",
        r"input_ids holds id 1000000000",
    ),
    "BART generate, id just outside": (
        "BartForConditionalGeneration",
        TINY_BART,
        "m.generate(np.array([[0, 5, 99, 2]]), max_new_tokens=3)",
        r"input_ids holds id 99 .*vocab_size=99",
    ),
    "BART generate, negative id": (
        "BartForConditionalGeneration",
        TINY_BART,
        "m.generate(np.array([[0, 5, -7, 2]]), max_new_tokens=3)",
        r"input_ids holds id -7",
    ),
    "GPT-2 generate, float ids": (
        "GPT2LMHeadModel",
        TINY_GPT2,
        "m.generate(np.array([[5.0, 6.5]]), max_new_tokens=3)",
        r"input_ids must be an integer array",
    ),
    "GPT-2 generate, id outside": (
        "GPT2LMHeadModel",
        TINY_GPT2,
        "m.generate(np.array([[5, 10**9]]), max_new_tokens=3)",
        r"input_ids holds id 1000000000",
    ),
    "BART decoder ids outside": (
        "BartForConditionalGeneration",
        TINY_BART,
        f"m({IDS}, decoder_input_ids=np.array([[2, 10**8]]))",
        r"input_ids holds id 100000000",
    ),
}


def run_in_subprocess(class_name: str, folder, call: str) -> subprocess.CompletedProcess:
    """Load ``folder`` with nanohf's ``class_name`` in a fresh interpreter and make ``call`` on it as ``m``."""
    code = f"import numpy as np, nanohf\nm = nanohf.{class_name}.from_pretrained({str(folder)!r})\n{call}\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_model_input_is_a_clear_error(case, make_checkpoint):
    class_name, config, call, message = CASES[case]
    result = run_in_subprocess(class_name, make_checkpoint(class_name, config), call)
    assert result.returncode == 1, (
        f"{case}: exit code {result.returncode} (negative: a signal)\n{result.stderr[-2000:]}"
    )
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ValueError: "), f"{case}: {last}"
    assert re.search(message, last), f"{case}: {last!r} does not match {message!r}"


def test_embedding_lookup_outside_the_table_is_refused():
    """The kernel wrapper's own check, for any lookup a model did not check (here: a negative id)."""
    import numpy as np

    from nanohf.kernels.embedding import gather_add_forward

    table, out = np.ones((5, 3), dtype=np.float32), np.zeros((1, 2, 3), dtype=np.float32)
    for ids in ([[0, 5]], [[-1, 0]]):
        with pytest.raises(IndexError, match=r"outside the table's rows \[0, 5\)"):
            gather_add_forward(table, np.array(ids), out)
    np.testing.assert_array_equal(gather_add_forward(table, np.array([[0, 4]]), out), np.ones((1, 2, 3)))
