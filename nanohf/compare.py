"""``nanohf compare DIR``: does nanohf compute what transformers computes on *your* checkpoint?

Both libraries load the same folder (or transformers loads ``--reference``, e.g. the original of a
converted or edited copy) and run the same inputs: a few sentences through the folder's own
tokenizer, or random ids when it has none. Then, layer by layer, the largest absolute difference
over the real (unpadded) tokens::

    embeddings         2.4e-07      hidden_states[0]: what enters the first layer
    layer 0            4.8e-07      hidden_states[i + 1]: the output of layer i
    ...
    logits             1.9e-06      the head's output

The first row with a large |Δ| is the first place the two disagree: a wrong tensor in layer 3
leaves "embeddings" … "layer 2" small and makes "layer 3" large.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Transformers compute the same numbers in NumPy.",
    "Short one.",
]
# outputs that are one array each; hidden states are compared per layer, attentions and caches not at all
HEAD_OUTPUTS = ("pooler_output", "logits", "start_logits", "end_logits")


@dataclass
class Row:
    """One line of the report: ``name`` (embeddings, layer i, logits…), shape and the max |Δ| (None: no reference)."""

    name: str
    shape: tuple[int, ...]
    max_abs_diff: float | None


def model_class_name(folder: Path) -> str:
    """The class the checkpoint was saved from (``config.architectures[0]``), else the bare model."""
    from nanohf.models.configuration_utils import read_config_dict

    architectures = read_config_dict(folder / "config.json").get("architectures") or []
    return architectures[0] if architectures else "AutoModel"


def load_nanohf_model(folder: Path, class_name: str):
    import nanohf

    model_class = getattr(nanohf, class_name, None)
    if model_class is None or not hasattr(model_class, "from_pretrained"):
        print(f"nanohf has no {class_name}: comparing the bare model (AutoModel)", file=sys.stderr)
        model_class = nanohf.AutoModel
    return model_class.from_pretrained(folder)


def make_inputs(folder: Path, vocab_size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """``(input_ids, attention_mask, description)``, right-padded ``(batch, seq)`` int64 arrays.

    Sentences through the folder's tokenizer when it has one whose ids fit the model; otherwise
    random ids in ``[1, vocab_size)`` with ragged lengths, so padding is exercised either way.
    """
    from nanohf import AutoTokenizer

    rows: list[list[int]] = []
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        rows = [tokenizer(s)["input_ids"] for s in SENTENCES]
        source = f"{len(rows)} sentences through the folder's {type(tokenizer).__name__}"
    except (OSError, ValueError):  # no (or no supported) tokenizer files
        source = ""
    if not rows or max(max(r) for r in rows) >= vocab_size:
        rng = np.random.default_rng(seed)
        rows = [rng.integers(1, vocab_size, n).tolist() for n in (12, 7, 3)]
        source = "random ids (the folder has no tokenizer that fits the model's vocabulary)"
    seq = max(len(r) for r in rows)
    input_ids = np.zeros((len(rows), seq), dtype=np.int64)
    attention_mask = np.zeros_like(input_ids)
    for i, row in enumerate(rows):
        input_ids[i, : len(row)] = row
        attention_mask[i, : len(row)] = 1
    return input_ids, attention_mask, source


def max_abs_diff(ours: np.ndarray, theirs: np.ndarray, attention_mask: np.ndarray) -> float:
    """Largest |ours − theirs|; for per-token outputs ``(batch, seq, …)`` only over real tokens."""
    if ours.shape != theirs.shape:
        raise ValueError(f"shapes differ: nanohf {ours.shape}, transformers {theirs.shape}")
    diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    if diff.ndim >= 2 and diff.shape[:2] == attention_mask.shape:
        diff = diff[attention_mask.astype(bool)]  # padded positions hold meaningless states
    return float(diff.max(initial=0.0))


def layer_outputs(out) -> list[tuple[str, np.ndarray]]:
    """``[(name, array)]``: embeddings, each layer's hidden states, then the head outputs present."""
    named = []
    hidden_states = out["hidden_states"] if "hidden_states" in out else None
    if hidden_states is not None:
        named.append(("embeddings", hidden_states[0]))
        named += [(f"layer {i}", h) for i, h in enumerate(hidden_states[1:])]
    elif "last_hidden_state" in out:
        named.append(("last_hidden_state", out["last_hidden_state"]))
    named += [(key, out[key]) for key in HEAD_OUTPUTS if key in out and out[key] is not None]
    return named


def run_transformers(folder: Path, class_name: str, input_ids: np.ndarray, attention_mask: np.ndarray):
    """transformers' outputs as NumPy arrays, or None when transformers (or torch) is not installed."""
    try:
        import torch
        import transformers
    except ImportError:
        return None
    model_class = getattr(transformers, class_name, transformers.AutoModel)
    model = model_class.from_pretrained(folder, attn_implementation="eager").eval()
    with torch.no_grad():
        out = model(input_ids=torch.tensor(input_ids), attention_mask=torch.tensor(attention_mask),
                    output_hidden_states=True)  # fmt: skip
    return {name: value.float().numpy() for name, value in layer_outputs(out)}


def compare(folder: str | Path, reference: str | Path | None = None, seed: int = 0) -> tuple[list[Row], str]:
    """nanohf on ``folder`` against transformers on ``reference`` (default: the same folder).

    Returns the report's rows and a description of the inputs used.
    """
    from nanohf import no_grad

    folder = Path(folder)
    reference = Path(reference) if reference is not None else folder
    class_name = model_class_name(folder)
    model = load_nanohf_model(folder, class_name)
    input_ids, attention_mask, source = make_inputs(folder, model.config.vocab_size, seed)
    with no_grad():
        ours = layer_outputs(model(input_ids, attention_mask=attention_mask, output_hidden_states=True))
    theirs = run_transformers(reference, class_name, input_ids, attention_mask)
    rows = [
        Row(name, array.shape, None if theirs is None else max_abs_diff(array, theirs[name], attention_mask))
        for name, array in ours
    ]
    return rows, f"{source}, input_ids {input_ids.shape}"


def print_report(rows: list[Row], inputs: str, tolerance: float = 1e-4, file: TextIO | None = None) -> bool:
    """Print one line per layer; returns True when every |Δ| is within ``tolerance``."""
    file = file or sys.stdout
    print(f"inputs: {inputs}", file=file)
    if rows and rows[0].max_abs_diff is None:
        print("transformers is not installed: nanohf's output shapes only", file=file)
    print(f"{'output':<20}{'shape':<22}max |Δ|", file=file)
    ok = True
    for row in rows:
        if row.max_abs_diff is None:
            print(f"{row.name:<20}{str(row.shape):<22}-", file=file)
            continue
        flag = "" if row.max_abs_diff <= tolerance else f"   > {tolerance:g}  <-- differs"
        ok &= row.max_abs_diff <= tolerance
        print(f"{row.name:<20}{str(row.shape):<22}{row.max_abs_diff:.2e}{flag}", file=file)
    if rows and rows[0].max_abs_diff is not None:
        first_bad = next((r.name for r in rows if r.max_abs_diff > tolerance), None)
        print("all outputs agree" if ok else f"first difference at: {first_bad}", file=file)
    return ok


def main(args) -> int:
    """The ``nanohf compare`` command: exit status 0 when everything agrees, 1 otherwise."""
    rows, inputs = compare(args.folder, args.reference, args.seed)
    print(f"nanohf: {args.folder}\ntransformers: {args.reference or args.folder}")
    return 0 if print_report(rows, inputs, args.tolerance) else 1
