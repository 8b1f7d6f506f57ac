"""The skeleton every family shares (nanohf/nn/blocks.py, nanohf/nn/kv_cache.py) and init by type.

- the typed KV cache: what GPT-2 and BART return, legacy tuples accepted, a given cache never changed,
  ``reorder`` as beam search uses it;
- the layer stack: hidden states (the last after the final norm) and attentions as before;
- token selection and its zeros-and-scatter backward; the feed-forward recompute gives the same gradients
  as keeping the input;
- ``_init_weights`` by type (``reset_parameters``): the same initial numbers as before the skeleton for the
  existing families, and a module type it does not know keeps its constructor's values (a norm at 1);
- the Trainer's decay set is exactly transformers' ``Trainer.get_decay_parameter_names`` for a model with a
  ``norm`` module and an RMSNorm-like class;
- generation_beam.py does not import generation.py (the import circle is gone).
"""

import hashlib
import subprocess
import sys

import numpy as np
import pytest

import nanohf
from nanohf.nn import LayerNorm, Linear
from nanohf.nn.blocks import (
    feed_forward,
    feed_forward_backward,
    last_index_of,
    last_non_pad_index,
    select_token,
    select_token_backward,
)
from nanohf.nn.kv_cache import KVCache, LayerCache
from nanohf.nn.module import Module, Parameter

rng = np.random.default_rng(0)

GPT2_TINY = dict(vocab_size=50, n_embd=16, n_layer=2, n_head=2, n_positions=32)
BART_TINY = dict(vocab_size=50, d_model=16, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2,
                 decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                 max_position_embeddings=32)  # fmt: skip


@pytest.fixture(scope="module")
def gpt2():
    nanohf.set_seed(0)
    return nanohf.GPT2LMHeadModel(nanohf.GPT2Config(**GPT2_TINY))


@pytest.fixture(scope="module")
def bart():
    nanohf.set_seed(0)
    return nanohf.BartForConditionalGeneration(nanohf.BartConfig(**BART_TINY))


# --- the KV cache ---------------------------------------------------------------------------------------


def test_gpt2_returns_a_typed_cache_and_never_changes_the_one_it_is_given(gpt2):
    ids = rng.integers(0, 50, (2, 5))
    with nanohf.no_grad():
        out = gpt2(ids)
        cache = out.past_key_values
        assert isinstance(cache, KVCache) and len(cache) == 2 and cache.get_seq_length() == 5
        assert isinstance(cache[0], LayerCache) and cache[0].keys.shape == (2, 2, 5, 8)
        assert cache[0][0] is cache[0].keys and cache[0].cross_keys is None  # the older tuple reading works
        step = rng.integers(0, 50, (2, 1))
        first = gpt2(step, past_key_values=cache).logits
        again = gpt2(step, past_key_values=cache).logits  # the same cache fed twice: the same answer
        assert cache.get_seq_length() == 5
        legacy = tuple((layer.keys, layer.values) for layer in cache)  # transformers-4 style tuples
        from_tuples = gpt2(step, past_key_values=legacy).logits
        full = gpt2(np.concatenate([ids, step], axis=1)).logits[:, -1:]
    assert np.array_equal(first, again) and np.array_equal(first, from_tuples)
    diff = np.abs(first - full).max()
    assert diff <= 1e-5, f"cached step vs full recompute |Δ| {diff:.2e}"
    assert gpt2(ids, use_cache=False).past_key_values is None


def test_bart_cache_holds_self_and_cross_keys_and_reorders(bart):
    ids = np.array([[0, 5, 6, 7, 2], [0, 8, 9, 2, 1]])
    mask = (ids != 1).astype(np.int64)
    with nanohf.no_grad():
        encoder = (bart.get_encoder()(ids, mask).last_hidden_state,)
        out = bart(None, mask, np.array([[2], [2]]), encoder_outputs=encoder, use_cache=True)
    cache = out.past_key_values
    assert len(cache) == 2 and cache.get_seq_length() == 1
    assert cache[0].cross_keys.shape == (2, 5, 16) and cache[0][2] is cache[0].cross_keys
    keys, cross = cache[1].keys.copy(), cache[1].cross_keys.copy()
    cache.reorder(np.array([1, 1]))
    assert np.array_equal(cache[1].keys, keys[[1, 1]]) and np.array_equal(cache[1].cross_keys, cross[[1, 1]])
    cache.reorder(np.array([0, 1]), cross_attention=False)  # beam search: cross keys stay where they are
    assert np.array_equal(cache[1].cross_keys, cross[[1, 1]])


def test_legacy_cache_with_a_wrong_entry_is_refused():
    with pytest.raises(ValueError, match=r"past_key_values\[0\] has 3 arrays"):
        KVCache.from_legacy([(np.zeros(1), np.zeros(1), np.zeros(1))])


# --- the layer stack ------------------------------------------------------------------------------------


def test_stack_hidden_states_end_after_the_final_norm(gpt2):
    ids = rng.integers(0, 50, (1, 4))
    with nanohf.no_grad():
        out = gpt2(ids, output_hidden_states=True, output_attentions=True)
        base = gpt2.transformer(ids)
    assert len(out.hidden_states) == 3 and len(out.attentions) == 2
    assert np.array_equal(out.hidden_states[-1], base.last_hidden_state)  # ln_f's output, as transformers


# --- one token per row ----------------------------------------------------------------------------------


def test_select_token_and_its_scatter_backward():
    hidden = rng.standard_normal((3, 5, 4))
    index = np.array([4, 0, 2])
    assert np.array_equal(select_token(hidden, index), hidden[[0, 1, 2], [4, 0, 2]])
    assert np.array_equal(select_token(hidden, 0), hidden[:, 0])
    d = rng.standard_normal((3, 4))
    grad = select_token_backward(d, hidden.shape, index)
    expected = np.zeros_like(hidden)
    expected[[0, 1, 2], [4, 0, 2]] = d
    assert np.array_equal(grad, expected)
    into = np.ones_like(hidden)
    select_token_backward(d, hidden.shape, 0, into=into)
    assert np.array_equal(into[:, 0], 1 + d) and np.array_equal(into[:, 1:], np.ones((3, 4, 4)))
    ids = np.array([[5, 6, 1, 1], [5, 6, 7, 8], [1, 1, 1, 1]])
    assert last_non_pad_index(ids, 1).tolist() == [1, 3, 0]
    assert last_index_of(np.array([[0, 2, 5, 2, 1], [0, 5, 2, 1, 1]]), 2).tolist() == [3, 2]
    with pytest.raises(ValueError, match="no padding token"):
        last_non_pad_index(ids, None)


# --- the feed-forward block -----------------------------------------------------------------------------


def test_feed_forward_recompute_gives_the_kept_input_gradients():
    fc1, fc2 = Linear(6, 10, activation="gelu"), Linear(10, 6)
    for p in (fc1.weight, fc1.bias, fc2.weight, fc2.bias):
        p.data = rng.standard_normal(p.data.shape)
    x, g = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3, 6))

    def run(recompute: bool):
        fc1.zero_grad(), fc2.zero_grad()
        y = feed_forward(fc1, fc2, x) if recompute else fc2(fc1(x))
        kept = fc2._cache[1]
        dx = feed_forward_backward(fc1, fc2, g) if recompute else fc1.backward(fc2.backward(g))
        return y, kept, dx, fc1.weight.grad.copy(), fc2.weight.grad.copy()

    y, kept, dx, g1, g2 = run(True)
    y0, kept0, dx0, g10, g20 = run(False)
    assert kept is None and kept0 is not None  # the recompute path keeps no (tokens, intermediate) array
    for a, b in ((y, y0), (dx, dx0), (g1, g10), (g2, g20)):
        assert np.array_equal(a, b)


def test_linear_without_its_input_says_so():
    layer = Linear(3, 2)
    layer(np.ones((1, 3)), keep_input=False)
    with pytest.raises(RuntimeError, match="kept no input"):
        layer.backward(np.ones((1, 2)))


# --- weight init by type --------------------------------------------------------------------------------

# sha256 (first 16 hex digits) of the state dict, name by name, right after construction under set_seed(0):
# measured with the code before the skeleton (commit 0445bf6), when _init_weights dispatched by isinstance.
INIT_DIGESTS = {
    "BertForMaskedLM": "007f0e555706e16f",
    "DistilBertForSequenceClassification": "54893f2e2088b2ee",
    "GPT2LMHeadModel": "686f3016fe3c457c",
    "BartForConditionalGeneration": "c481e1913c06a957",
}
INIT_CONFIGS = {
    "BertForMaskedLM": nanohf.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                         intermediate_size=32, max_position_embeddings=20),
    "DistilBertForSequenceClassification": nanohf.DistilBertConfig(vocab_size=50, dim=16, n_layers=2, n_heads=2,
                                                                   hidden_dim=32, max_position_embeddings=20,
                                                                   sinusoidal_pos_embds=True),
    "GPT2LMHeadModel": nanohf.GPT2Config(vocab_size=50, n_embd=16, n_layer=2, n_head=2, n_positions=20),
    "BartForConditionalGeneration": nanohf.BartConfig(vocab_size=50, d_model=16, encoder_layers=1, decoder_layers=1,
                                                      encoder_attention_heads=2, decoder_attention_heads=2,
                                                      encoder_ffn_dim=32, decoder_ffn_dim=32,
                                                      max_position_embeddings=20),
}  # fmt: skip


@pytest.mark.parametrize("class_name", sorted(INIT_DIGESTS))
def test_initial_weights_are_the_same_numbers_as_before(class_name):
    nanohf.set_seed(0)
    model = getattr(nanohf, class_name)(INIT_CONFIGS[class_name])
    digest = hashlib.sha256()
    for name, array in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    assert digest.hexdigest()[:16] == INIT_DIGESTS[class_name], f"{class_name}: initial weights changed"


class ScaleNorm(Module):
    """A norm class nanohf's init has never heard of: weight built at 1."""

    def __init__(self, size: int):
        self.weight = Parameter(np.ones(size, dtype=np.float32))


def test_init_weights_leaves_a_module_it_does_not_know_as_built():
    model = nanohf.GPT2LMHeadModel(nanohf.GPT2Config(**GPT2_TINY))
    model.transformer.norm = ScaleNorm(16)
    model.init_weights()
    assert np.array_equal(model.transformer.norm.weight.data, np.ones(16)), "a norm's weight must not start at 0"
    assert model.transformer.h[0].attn.c_attn.bias.data.max() == 0.0  # biases still 0, by type


# --- the Trainer's decay set ----------------------------------------------------------------------------


def test_decay_names_are_transformers_with_a_norm_module_and_an_rmsnorm_like_class():
    import torch
    from transformers import Trainer

    class TorchRMSNorm(torch.nn.Module):
        def __init__(self, size):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(size))

    def torch_model():
        root = torch.nn.Module()
        root.embed_tokens = torch.nn.Embedding(10, 4)
        layer = torch.nn.Module()
        layer.input_layernorm = TorchRMSNorm(4)
        layer.q_proj = torch.nn.Linear(4, 4, bias=True)
        layer.post_attention_layernorm = TorchRMSNorm(4)
        layer.mlp_norm = TorchRMSNorm(4)
        layer.gate = torch.nn.Linear(4, 4, bias=False)
        layer.ln = torch.nn.LayerNorm(4)
        root.layer = layer
        root.norm = TorchRMSNorm(4)
        root.final = TorchRMSNorm(4)  # a norm whose name says nothing: decayed in transformers too
        root.lm_head = torch.nn.Linear(4, 10, bias=False)
        return root

    class RMSNormLike(Module):
        def __init__(self, size):
            self.weight = Parameter(np.ones(size, dtype=np.float32))

    def our_model():
        root = Module()
        root.embed_tokens = nanohf.nn.Embedding(10, 4)
        layer = Module()
        layer.input_layernorm = RMSNormLike(4)
        layer.q_proj = Linear(4, 4, bias=True)
        layer.post_attention_layernorm = RMSNormLike(4)
        layer.mlp_norm = RMSNormLike(4)
        layer.gate = Linear(4, 4, bias=False)
        layer.ln = LayerNorm(4)
        root.layer = layer
        root.norm = RMSNormLike(4)
        root.final = RMSNormLike(4)
        root.lm_head = Linear(4, 10, bias=False)
        return root

    theirs = Trainer.get_decay_parameter_names(None, torch_model())
    ours = nanohf.Trainer.get_decay_parameter_names(None, our_model())
    assert sorted(ours) == sorted(theirs), f"ours {sorted(ours)} vs transformers {sorted(theirs)}"
    assert "norm.weight" not in ours and "final.weight" in ours and "layer.gate.weight" in ours


# --- import structure -----------------------------------------------------------------------------------


def test_beam_search_does_not_import_generation():
    code = "import sys, nanohf.generation_beam; print('nanohf.generation' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False", "generation_beam.py imports generation.py again (an import circle)"
