"""Tokenizer training time: nanohf's trainers against the Rust `tokenizers` trainers on the same text.

As workloads of benchmarks/run.py (interleaved, nanohf then `tokenizers`, after one warm-up each):

  * train-bpe        byte-level BPE (GPT-2's pipeline: ByteLevel pre-tokenizer, the 256 bytes as initial
                     alphabet, "<|endoftext|>"), vocab 30,000
  * train-wordpiece  BERT's pipeline (BertNormalizer lower-casing, BertPreTokenizer), WordPiece vocab 30,000
  * train-unigram    Metaspace pre-tokenizer, Unigram vocab 8,000 with "<unk>"

on >= 20 MB of text: Tiny Shakespeare, SST-2, MRPC and WNUT'17 concatenated as often as needed. Each copy
rotates the words of every line by one more position, so no line repeats (nanohf splits each distinct line
once; repeated copies would flatter it) while the words, and so the vocabulary, stay those of the corpora.
Both libraries train the same pipeline, built from the same tokenizer.json. The Rust trainers use every
core (2 here), nanohf one. Each library's setup trains once on 50 kB (the warm-up: nanohf's Numba kernels
compile or load from their cache), so the race needs no warm-up call on the full corpus; at most 3 repeats.

Run on its own for a table with the ratios:

    python benchmarks/tokenizer_training.py [--mb 20] [--repeats 3] [--only bpe,wordpiece,unigram]
"""

import argparse
import os
import time
from functools import cache, partial

from common import DATA, Workload

SHARED = DATA  # the shipped corpora (data/README.md)
WARMUP_MB = 0.05


def _base_lines() -> list[str]:
    lines = (DATA / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8").splitlines()
    sst2 = (DATA / "glue_sst2" / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    lines += [row.split("\t")[0] for row in sst2]
    mrpc = (DATA / "glue_mrpc" / "train.tsv").read_text(encoding="utf-8-sig").splitlines()[1:]
    lines += [s for row in mrpc for s in row.split("\t")[3:5]]
    wnut = SHARED / "wnut17" / "wnut17train.conll"
    if wnut.is_file():
        words = []
        for row in wnut.read_text(encoding="utf-8").splitlines():
            if row.strip():
                words.append(row.split("\t")[0])
            elif words:
                lines.append(" ".join(words))
                words = []
    return [line for line in lines if line.strip()]


@cache
def corpus(megabytes: float) -> tuple[str, ...]:
    """At least `megabytes` MB of UTF-8 text (line ends not counted), as lines; copy k rotates each line's
    words by k."""
    base = [line.split() for line in _base_lines()]
    out, size, k = [], 0, 0
    while size < megabytes * 1e6:
        for words in base:
            r = k % len(words)
            line = " ".join(words[r:] + words[:r])
            out.append(line)
            size += len(line.encode("utf-8"))
            if size >= megabytes * 1e6:
                break
        k += 1
    return tuple(out)


def _pipeline(kind: str):
    """The reference pipeline (a `tokenizers` Tokenizer) and the trainer settings of one workload."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    if kind == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        settings = dict(vocab_size=30000, special_tokens=["<|endoftext|>"],
                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # fmt: skip
        return tok, "BpeTrainer", settings
    if kind == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        return (
            tok,
            "WordPieceTrainer",
            dict(vocab_size=30000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]),
        )
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    return tok, "UnigramTrainer", dict(vocab_size=8000, unk_token="<unk>", special_tokens=["<unk>"])


def training(library: str, _folder, kind: str, megabytes: float):
    """The call to time: build an empty pipeline and train it on the corpus."""
    texts = corpus(megabytes)
    reference, trainer_name, settings = _pipeline(kind)
    description = reference.to_str()
    if library == "nanohf":
        from nanohf.tokenizers import Tokenizer, trainers
    else:
        from tokenizers import Tokenizer, trainers
    trainer_class = getattr(trainers, trainer_name)

    def train(lines):
        tok = Tokenizer.from_str(description)
        tok.train_from_iterator(lines, trainer=trainer_class(show_progress=False, **settings))
        return tok

    train(corpus(WARMUP_MB))  # the warm-up, on 50 kB: compiles (or loads) nanohf's Numba kernels
    return partial(train, texts)


TITLES = {"bpe": "byte-level BPE, vocab 30k", "wordpiece": "WordPiece (BERT), vocab 30k",
          "unigram": "Unigram (Metaspace), vocab 8k"}  # fmt: skip


def workloads(tiny: bool) -> list[Workload]:
    megabytes = WARMUP_MB if tiny else 20.0
    size = f"{megabytes:g} MB" if not tiny else "50 kB"
    return [
        Workload(f"train-{kind}", f"Train {TITLES[kind]} on {size}", "tokenizer-training",
                 setup=partial(training, kind=kind, megabytes=megabytes), folder=DATA, unit="s", warmup=False,
                 max_repeats=None if tiny else 3)
        for kind in TITLES
    ]  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="megabytes of text")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="bpe,wordpiece,unigram")
    args = parser.parse_args()
    texts = corpus(args.mb)
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    print(f"corpus: {len(texts):,} lines, {megabytes:.1f} MB of UTF-8 text; {os.cpu_count()} cores; "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    for kind in args.only.split(","):
        runs = [training(library, None, kind, args.mb) for library in ("nanohf", "tokenizers")]
        times = [[], []]
        for _ in range(args.repeats):  # interleaved: nanohf, tokenizers, nanohf, ...
            for run, seconds in zip(runs, times, strict=True):
                start = time.perf_counter()
                run()
                seconds.append(time.perf_counter() - start)
        ours, theirs = min(times[0]), min(times[1])
        print(f"{TITLES[kind]:32} nanohf {ours:7.2f} s  tokenizers {theirs:7.2f} s  ratio {ours / theirs:5.2f}x "
              f"(runs: {' '.join(f'{t:.2f}' for t in times[0])} vs {' '.join(f'{t:.2f}' for t in times[1])}; "
              f"load {os.getloadavg()[0]:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
