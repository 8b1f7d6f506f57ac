"""Configs are checked before a model is built: types, ranges, names, flags, size (issue: reliability).

Each bad value is one transformers either refuses (its strict dataclass configs: a str for an int
field) or accepts and then misbehaves on (NaN from a negative eps, a dropped activation, embedding
rows read from the end). nanohf refuses all of them, naming the file and the field.
"""

import json
import shutil

import numpy as np
import pytest
from conftest import TINY_BERT, TINY_DISTILBERT

import nanohf
from nanohf.models.bart import BartConfig
from nanohf.models.bert import BertConfig
from nanohf.models.config_validation import ConfigError
from nanohf.models.distilbert import DistilBertConfig
from nanohf.models.gpt2 import GPT2Config

TINY_GPT2 = dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64)
TINY_BART = dict(
    vocab_size=99, d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4,
    decoder_attention_heads=4, encoder_ffn_dim=8, decoder_ffn_dim=8, max_position_embeddings=64,
)  # fmt: skip

BERT_CASES = [
    ({"hidden_size": "abc"}, r"hidden_size must be int, got str 'abc'"),
    ({"hidden_size": "32"}, r"hidden_size must be int, got str '32'"),
    ({"hidden_size": 32.5}, r"hidden_size must be int, got float 32.5"),
    ({"hidden_size": True}, r"hidden_size must be int, got bool True"),
    ({"num_attention_heads": 0}, r"num_attention_heads must be a positive integer, got 0"),
    ({"hidden_size": 30}, r"The hidden size \(30\) is not a multiple of the number of attention heads \(4\)"),
    ({"layer_norm_eps": -1.0}, r"layer_norm_eps must be a small number > 0"),
    ({"layer_norm_eps": 0.0}, r"layer_norm_eps must be a small number > 0"),
    ({"hidden_act": None}, r"hidden_act must be str, got NoneType None"),
    ({"hidden_act": "swishy"}, r"hidden_act is 'swishy', not an activation nanohf knows"),
    ({"hidden_dropout_prob": 2.0}, r"hidden_dropout_prob is a probability and must lie in \[0, 1\], got 2.0"),
    ({"attention_probs_dropout_prob": -1.0}, r"attention_probs_dropout_prob is a probability"),
    ({"classifier_dropout": 1.5}, r"classifier_dropout is a probability"),
    ({"pad_token_id": -5}, r"pad_token_id must be None or a token id >= 0, got -5"),
    ({"pad_token_id": 99}, r"pad_token_id must be None or an id inside the vocabulary \[0, vocab_size=99\), got 99"),
    ({"pad_token_id": "0"}, r"pad_token_id must be int \| None, got str '0'"),
    ({"num_hidden_layers": -1}, r"num_hidden_layers must be a number of layers >= 0, got -1"),
    ({"type_vocab_size": 0}, r"type_vocab_size must be a positive integer, got 0"),
    ({"vocab_size": 0}, r"vocab_size must be a positive integer, got 0"),
    ({"is_decoder": True}, r"is_decoder is true, but nanohf's Bert does not implement it"),
    ({"add_cross_attention": True}, r"add_cross_attention is true"),
    (
        {"num_hidden_layers": 1_000_000, "hidden_size": 768, "num_attention_heads": 12},
        r"num_hidden_layers=1000000 and hidden_size=768 ask for about \d+ GiB of float32 weights, more",
    ),
]


@pytest.mark.parametrize(("change", "message"), BERT_CASES, ids=[str(c) for c, _ in BERT_CASES])
def test_bert_config_refused(change, message):
    with pytest.raises(ConfigError, match=rf"^BertConfig: {message}"):
        nanohf.BertModel(BertConfig(**{**TINY_BERT, **change}))


@pytest.mark.parametrize(
    ("config_class", "model_class", "base", "change", "message"),
    [
        (DistilBertConfig, "DistilBertModel", TINY_DISTILBERT, {"n_heads": 5}, r"hidden size \(32\).*heads \(5\)"),
        (DistilBertConfig, "DistilBertModel", TINY_DISTILBERT, {"activation": None}, r"activation must be str"),
        (DistilBertConfig, "DistilBertModel", TINY_DISTILBERT, {"dropout": 2.0}, r"dropout is a probability"),
        (GPT2Config, "GPT2Model", TINY_GPT2, {"layer_norm_epsilon": -1.0}, r"layer_norm_epsilon must be a small"),
        (GPT2Config, "GPT2Model", TINY_GPT2, {"n_inner": 0}, r"n_inner must be a positive integer"),
        (GPT2Config, "GPT2Model", TINY_GPT2, {"embd_pdrop": -0.5}, r"embd_pdrop is a probability"),
        (BartConfig, "BartModel", TINY_BART, {"scale_embedding": "yes"}, r"scale_embedding must be bool, got str"),
        (BartConfig, "BartModel", TINY_BART, {"decoder_layers": -2}, r"decoder_layers must be a number of layers"),
        (BartConfig, "BartModel", TINY_BART, {"decoder_attention_heads": 3}, r"hidden size \(32\).*heads \(3\)"),
        (BartConfig, "BartModel", TINY_BART, {"decoder_start_token_id": -1}, r"decoder_start_token_id must be None"),
    ],
)
def test_other_families_refuse(config_class, model_class, base, change, message):
    with pytest.raises(ConfigError, match=message):
        getattr(nanohf, model_class)(config_class(**{**base, **change}))


def test_good_configs_still_build():
    """Edge values that are right: no layers, optional fields left None, probabilities 0 and 1, ints for floats."""
    nanohf.BertModel(BertConfig(**{**TINY_BERT, "num_hidden_layers": 0, "classifier_dropout": None}))
    nanohf.BertModel(BertConfig(**{**TINY_BERT, "hidden_dropout_prob": 1, "attention_probs_dropout_prob": 0}))
    nanohf.GPT2Model(GPT2Config(**{**TINY_GPT2, "n_inner": None, "pad_token_id": None}))


def test_error_names_the_config_file(make_checkpoint, tmp_path):
    """Loaded from a folder, the message names its config.json; the RoBERTa negative pad id that crashed."""
    folder = shutil.copytree(
        make_checkpoint("RobertaForMaskedLM", {**TINY_BERT, "max_position_embeddings": 70}), tmp_path / "roberta"
    )
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "pad_token_id": -5}))
    with pytest.raises(ConfigError, match=rf"^{folder / 'config.json'}: pad_token_id must be None or a token id >= 0"):
        nanohf.AutoModelForMaskedLM.from_pretrained(folder)
    (folder / "config.json").write_text(json.dumps({**config, "hidden_size": "32"}))
    with pytest.raises(ConfigError, match=rf"{folder / 'config.json'}: hidden_size must be int, got str '32'"):
        nanohf.AutoModelForMaskedLM.from_pretrained(folder)
    (folder / "config.json").write_text(json.dumps(config))
    logits = nanohf.AutoModelForMaskedLM.from_pretrained(folder)(np.array([[0, 5, 6, 2]])).logits
    assert np.isfinite(logits).all()
