"""Batch-encode throughput (sentences/s) of nanohf's tokenizers against transformers'.

As a workload of benchmarks/run.py: nanohf's BertTokenizer against transformers' (Rust) BertTokenizer,
both built from MiniLM's vocab.txt, encode 5,000 SST-2 sentences in one call. Each timed call builds a
fresh tokenizer (a few ms), so nanohf's word cache starts empty, as when a dataset is encoded once.

The wider comparison, run on its own:

    python benchmarks/tokenization.py [--n 5000] [--repeats 5]

encodes the first `n` SST-2 training sentences (data/glue_sst2/train.tsv) in one call, two ways:
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
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

from common import DATA, Workload, cpu_name, minilm_dir, sst2_sentences

BERT_VOCAB = DATA / "tokenizers" / "bert-base-uncased" / "vocab.txt"
GPT2_VOCAB, GPT2_MERGES = DATA / "tokenizers" / "gpt2" / "encoder.json", DATA / "tokenizers" / "gpt2" / "vocab.bpe"


def wordpiece_encoding(library: str, folder: Path, n: int):
    """Build a BertTokenizer from `folder`/vocab.txt and encode `n` SST-2 sentences (lists, no padding)."""
    sentences, vocab = sst2_sentences(n), Path(folder) / "vocab.txt"
    if library == "nanohf":
        from nanohf.tokenizers import BertTokenizer

        return lambda: BertTokenizer(vocab)(sentences)
    import transformers

    return lambda: transformers.BertTokenizer(str(vocab))(sentences)


def workloads(tiny: bool) -> list[Workload]:
    n = 50 if tiny else 5000
    return [
        Workload(
            "wordpiece", f"WordPiece encode {n:,} SST-2 sentences", "tokenization",
            setup=partial(wordpiece_encoding, n=n), folder=minilm_dir(), items=n,
            unit="sentences/s",
        )
    ]  # fmt: skip


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
