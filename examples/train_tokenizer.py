"""Train a WordPiece (BERT) and a byte-level BPE (GPT-2) tokenizer on shipped text, save them, load them back.

    python examples/train_tokenizer.py            # Tiny Shakespeare + SST-2: WordPiece 25,000, BPE 52,000 tokens
    python examples/train_tokenizer.py --tiny     # a slice and small vocabularies (CI, seconds)

The course's chapter 6 in two ways:

1. `old.train_new_from_iterator(texts, vocab_size)`: BERT's and GPT-2's tokenizers keep their pipeline
   (lower-casing, byte-level pre-tokenizer, special tokens and where they go) and learn a new vocabulary.
   The new tokenizers are saved with save_pretrained and loaded back with AutoTokenizer.
2. Building blocks: a Tokenizer with a normalizer, a pre-tokenizer and an empty WordPiece model, trained by
   a WordPieceTrainer, saved as tokenizer.json and read back with Tokenizer.from_file.
"""

import argparse
import tempfile
import time
from pathlib import Path

from nanohf import AutoTokenizer
from nanohf.tokenizers import BertTokenizer, GPT2Tokenizer, Tokenizer, models, normalizers, pre_tokenizers, trainers

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLES = ["To be, or not to be: that is the question.", "A gorgeous, witty, seductive movie.",
           "Tokenizers split unbelievably long words into pieces."]  # fmt: skip


def training_corpus(tiny: bool) -> list[str]:
    """Tiny Shakespeare's lines and SST-2's sentences (a slice of each with --tiny)."""
    shakespeare = (DATA / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8").splitlines()
    sst2 = [row.split("\t")[0] for row in (DATA / "glue_sst2" / "train.tsv").read_text().splitlines()[1:]]
    if tiny:
        shakespeare, sst2 = shakespeare[:2000], sst2[:2000]
    return [line for line in shakespeare + sst2 if line.strip()]


def batches(texts: list[str], size: int = 1000):
    """The corpus as a generator of batches, as the course feeds a dataset."""
    for i in range(0, len(texts), size):
        yield texts[i : i + size]


def show(name: str, tokenizer) -> None:
    print(f"--- {name}: {len(tokenizer):,} tokens")
    for text in SAMPLES[:2]:
        encoding = tokenizer(text)
        print(f"{text!r}\n  tokens {tokenizer.convert_ids_to_tokens(encoding['input_ids'])}\n"
              f"  ids    {encoding['input_ids']}")  # fmt: skip


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="a slice of the corpus, small vocabularies")
    parser.add_argument("--out", type=Path, default=None, help="where to save (default: a temporary folder)")
    args = parser.parse_args(argv)
    texts = training_corpus(args.tiny)
    wordpiece_size, bpe_size = (1000, 1000) if args.tiny else (25000, 52000)
    print(f"corpus: {len(texts):,} lines, {sum(map(len, texts)) / 1e6:.2f} MB")

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        # 1. train_new_from_iterator on BERT's and GPT-2's tokenizers
        bert = BertTokenizer(DATA / "tokenizers" / "bert-base-uncased" / "vocab.txt")
        gpt2 = GPT2Tokenizer(DATA / "tokenizers" / "gpt2" / "encoder.json", DATA / "tokenizers" / "gpt2" / "vocab.bpe")
        for name, old, size in (("wordpiece", bert, wordpiece_size), ("bpe", gpt2, bpe_size)):
            start = time.perf_counter()
            new = old.train_new_from_iterator(batches(texts), size, length=-(-len(texts) // 1000))
            print(f"trained {name} ({type(new).__name__}, {len(new):,} tokens) in {time.perf_counter() - start:.1f}s")
            new.save_pretrained(out / name)
            loaded = AutoTokenizer.from_pretrained(out / name)
            assert loaded(SAMPLES)["input_ids"] == new(SAMPLES)["input_ids"]
            show(f"{name} loaded back with AutoTokenizer ({type(loaded).__name__})", loaded)
            print(f"  old tokenizer: {old.tokenize(SAMPLES[2])}\n  new tokenizer: {loaded.tokenize(SAMPLES[2])}")

        # 2. block by block: normalizer + pre-tokenizer + WordPiece model + trainer -> tokenizer.json
        tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        trainer = trainers.WordPieceTrainer(vocab_size=wordpiece_size,
                                            special_tokens=["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"])  # fmt: skip
        tokenizer.train_from_iterator(batches(texts), trainer=trainer)
        tokenizer.save(str(out / "tokenizer.json"))
        reloaded = Tokenizer.from_file(str(out / "tokenizer.json"))
        encoding = reloaded.encode(SAMPLES[2])
        print(f"--- block by block: {reloaded.get_vocab_size():,} tokens, saved and read back from tokenizer.json")
        print(f"{SAMPLES[2]!r}\n  tokens {encoding.tokens}\n  offsets {encoding.offsets}")


if __name__ == "__main__":
    main()
