"""Batch-encode throughput (sentences/s) of nanohf's tokenizers against transformers', in one run.

    python benchmarks/tokenizers.py [--n 5000] [--repeats 5]

Encodes the first `n` SST-2 training sentences (data/glue_sst2/train.tsv) in one call, two ways:
plain `tok(sentences)` (lists) and `tok(sentences, padding=True, truncation=True, return_tensors="np")`.
"cold" is the first call of a freshly built tokenizer (nanohf's word cache is empty); "warm" is the best of
`repeats` further calls. Contenders:

  BERT (bert-base-uncased vocab): nanohf BertTokenizer; transformers' pure-Python tokenizer
  (BertTokenizerLegacy, the v4 "slow" one); transformers' BertTokenizer (Rust `tokenizers`, which uses
  every core).
  GPT-2: nanohf GPT2Tokenizer; transformers' GPT2Tokenizer (Rust). transformers 5 has no pure-Python GPT-2
  tokenizer; ClvpTokenizer is the closest (GPT-2's byte-level BPE in Python, loaded with GPT-2's files) but
  normalises English text first (numbers spelled out, ...), so its ids are not GPT-2's: a speed reference only.
"""

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

# This script shares its name with the `tokenizers` library that transformers imports; running it puts its
# folder first on the import path, where it would shadow the library. Take the folder off again.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

DATA = Path(__file__).resolve().parents[1] / "data"
BERT_VOCAB = DATA / "tokenizers" / "bert-base-uncased" / "vocab.txt"
GPT2_VOCAB, GPT2_MERGES = DATA / "tokenizers" / "gpt2" / "encoder.json", DATA / "tokenizers" / "gpt2" / "vocab.bpe"


def sst2_sentences(n):
    lines = (DATA / "glue_sst2" / "train.tsv").read_text(encoding="utf-8").splitlines()[1 : n + 1]
    return [line.split("\t")[0] for line in lines]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def contenders(tmp):
    """[(model, implementation, factory)]; factory() builds a fresh tokenizer."""
    import transformers
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    from nanohf.tokenizers import BertTokenizer, GPT2Tokenizer

    # transformers' GPT-2 classes want transformers' file names.
    shutil.copy(GPT2_VOCAB, Path(tmp) / "vocab.json")
    shutil.copy(GPT2_MERGES, Path(tmp) / "merges.txt")
    vocab_json, merges_txt = str(Path(tmp) / "vocab.json"), str(Path(tmp) / "merges.txt")

    def with_pad(tok):
        tok.pad_token = tok.eos_token  # GPT-2 has no padding token
        return tok

    return [
        ("BERT", "nanohf (Python)", lambda: BertTokenizer(BERT_VOCAB)),
        ("BERT", "transformers pure Python", lambda: BertTokenizerLegacy(str(BERT_VOCAB))),
        ("BERT", "transformers Rust", lambda: transformers.BertTokenizer(str(BERT_VOCAB))),
        ("GPT-2", "nanohf (Python)", lambda: with_pad(GPT2Tokenizer(GPT2_VOCAB, GPT2_MERGES))),
        ("GPT-2", "transformers Python (Clvp)*",
         lambda: transformers.ClvpTokenizer(vocab_json, merges_txt, pad_token="<|endoftext|>")),
        ("GPT-2", "transformers Rust",
         lambda: with_pad(transformers.GPT2Tokenizer(vocab=vocab_json, merges=merges_txt))),
    ]


def measure(factory, sentences, kwargs, repeats):
    """(cold, warm) sentences/s: first call of a fresh tokenizer, best of `repeats` later calls.

    A throwaway tokenizer runs first, so once-per-process costs (Numba loading its compiled BPE kernel,
    the Rust thread pool starting) are not counted as "cold".
    """
    factory()(sentences[:2], **kwargs)
    tok = factory()
    start = time.perf_counter()
    tok(sentences, **kwargs)
    cold = len(sentences) / (time.perf_counter() - start)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        tok(sentences, **kwargs)
        best = min(best, time.perf_counter() - start)
    return cold, len(sentences) / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="number of SST-2 sentences")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    sentences = sst2_sentences(args.n)
    calls = {"plain": {}, "padded np": {"padding": True, "truncation": True, "return_tensors": "np"}}

    print(f"{len(sentences):,} SST-2 sentences ({sum(map(len, sentences)) / len(sentences):.0f} characters on "
          f"average); {cpu_name()}, {os.cpu_count()} cores; Python {platform.python_version()}")
    header = f"{'model':6} {'implementation':30}" + "".join(f"{name + ' cold':>15}{name + ' warm':>15}"
                                                          for name in calls)
    print(header + "\n" + "-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for model, name, factory in contenders(tmp):
            cells = []
            for kwargs in calls.values():
                cells += measure(factory, sentences, kwargs, args.repeats)
            print(f"{model:6} {name:30}" + "".join(f"{value:>15,.0f}" for value in cells))
    print("(sentences/s, higher is better; * normalises text first, a speed reference only)")


if __name__ == "__main__":
    main()
