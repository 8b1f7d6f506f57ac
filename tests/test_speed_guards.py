"""The speed and memory work must not change a number.

- each threaded kernel has a serial twin for small inputs (nanohf/kernels/parallel.py): both give the
  same numbers (to float32's last bits; masks and counts exactly), and the size decides which runs;
- the vectorisable exp keeps NaN a NaN (a diverging run must not turn into finite probabilities);
- Linear's few-rows form of the product matches torch;
- the memory savings are in place: fc2 of a feed-forward block recomputes its input instead of keeping
  it (unless dropout sits between), attention does not keep dropout(probs). Their gradients are judged
  against torch in test_gradients.py (no dropout) and by finite differences in test_dropout_gradients.py.
"""

import os

import numpy as np
import pytest
import torch

import nanohf
from nanohf.kernels import activations, dropout, layernorm, losses, parallel, softmax
from nanohf.kernels.vecmath import by_precision
from nanohf.nn.layers import FEW_ROWS, Linear

# With NUMBA_DISABLE_JIT=1 a kernel is its plain Python function: there are no two builds to compare or pick.
# CI runs with the JIT on, so these run there; every other test here runs either way.
needs_compiled_builds = pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1",
                                           reason="no serial and threaded builds without the JIT")  # fmt: skip
rng = np.random.default_rng(0)
F32 = np.float32


def kernel_cases():
    x = rng.standard_normal((37, 96)).astype(F32) * 3
    w, b = rng.standard_normal(96).astype(F32), rng.standard_normal(96).astype(F32)
    scores = rng.standard_normal((2, 3, 5, 7)).astype(F32) * 4
    mask = np.zeros((2, 7), F32)
    mask[1, 4:] = softmax.MASK_MIN
    probs = softmax.masked_softmax_forward(scores.copy(), mask, 0.5)
    labels = rng.integers(0, 96, 37)
    labels[3] = -100
    _, mean, rstd = layernorm.layernorm_forward(x, w, b, 1e-12)
    n_parts = layernorm.CHUNKS
    gelu = activations.resolve_activation("gelu")
    return {
        "layernorm": (layernorm._layernorm_rows, lambda: (x, w, b, F32(1e-12), np.empty_like(x), np.empty(37, F32),
                                                          np.empty(37, F32))),
        "layernorm_backward": (layernorm._layernorm_backward_rows, lambda: (
            x * 0.5, x, mean, rstd, w, np.empty_like(x), np.zeros((n_parts, 96), F32), np.zeros((n_parts, 96), F32))),
        "bias_gelu": (activations._specialised(activations._bias_activation_rows, gelu, np.float32),
                      lambda: (x, b, np.empty_like(x))),
        "bias_gelu_backward": (activations._specialised(activations._bias_activation_backward_rows, gelu, np.float32),
                               lambda: (x * 0.5, x, b, np.empty_like(x))),
        "masked_softmax": (by_precision(softmax._masked_softmax_rows, F32),
                           lambda: (scores.copy(), mask, F32(0.5), True)),
        "softmax_backward": (softmax._softmax_backward_rows, lambda: (probs, scores, F32(0.5), np.empty_like(probs))),
        "cross_entropy": (by_precision(losses._cross_entropy_rows, F32), lambda: (x, labels, -100)),
        "cross_entropy_backward": (by_precision(losses._cross_entropy_backward_rows, F32),
                                   lambda: (x, labels, -100, F32(0.1), np.empty_like(x))),
        "dropout": (dropout._dropout_forward_flat, lambda: (x.reshape(-1), np.uint64(7), np.uint64(1 << 22),
                                                           F32(1.0 / 0.75), np.empty(x.size, F32),
                                                           np.empty(x.size, np.uint8))),
    }  # fmt: skip


@needs_compiled_builds
@pytest.mark.parametrize("name", list(kernel_cases()))
def test_serial_and_threaded_builds_agree(name):
    kernel, make_args = kernel_cases()[name]
    serial_args, threaded_args = make_args(), make_args()
    serial_out = kernel.serial(*serial_args)
    threaded_out = kernel.parallel(*threaded_args)
    if isinstance(serial_out, tuple):  # cross-entropy's (loss sum, count): a sum over rows, whose order differs
        assert serial_out[1] == threaded_out[1]
        assert abs(serial_out[0] - threaded_out[0]) <= 1e-6 * abs(serial_out[0]), (serial_out, threaded_out)
    for a, b in zip([serial_out, *serial_args], [threaded_out, *threaded_args], strict=True):
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype, name
            if a.dtype.kind == "f":  # fused multiply-adds may land differently in the two builds
                diff, tol = np.abs(a - b).max(), 4 * np.finfo(a.dtype).eps * max(1.0, np.abs(a).max())
                assert diff <= tol, f"{name}: the builds differ by {diff:.2e} (tolerance {tol:.2e})"
            else:
                assert np.array_equal(a, b), f"{name}: the builds' {a.dtype} outputs differ"


@needs_compiled_builds
def test_the_input_size_picks_the_build(monkeypatch):
    calls = []
    kernel = layernorm._layernorm_rows
    monkeypatch.setattr(kernel, "serial", lambda *args: calls.append("serial"))
    monkeypatch.setattr(kernel, "parallel", lambda *args: calls.append("parallel"))
    hidden = 64
    for rows in (1, parallel.SERIAL_BELOW // hidden - 1, parallel.SERIAL_BELOW // hidden):
        x = np.zeros((rows, hidden), F32)
        layernorm.layernorm_forward(x, np.ones(hidden, F32), np.zeros(hidden, F32), 1e-5)
    assert calls == ["serial", "serial", "parallel"]


def test_nan_stays_nan_through_the_fast_exp():
    """torch: a NaN score makes its softmax row NaN, and silu/gelu(NaN) is NaN. No finite answer may appear."""
    scores = rng.standard_normal((1, 1, 2, 4)).astype(F32)
    scores[0, 0, 1, 2] = np.nan
    probs = softmax.masked_softmax_forward(scores.copy(), np.zeros((1, 4), F32), 1.0)
    ref = torch.softmax(torch.tensor(scores), -1).numpy()
    assert np.isnan(probs[0, 0, 1]).all() and np.isnan(ref[0, 0, 1]).all()
    assert np.abs(probs[0, 0, 0] - ref[0, 0, 0]).max() < 1e-6
    h = np.array([[np.nan, -100.0, 0.5, 100.0]], F32)
    for name in ("silu", "gelu", "gelu_new", "tanh"):
        out = activations.bias_activation_forward(h, None, activations.resolve_activation(name))
        assert np.isnan(out[0, 0]) and np.isfinite(out[0, 1:]).all(), f"{name}: {out}"


@pytest.mark.parametrize("rows", [1, 3, FEW_ROWS - 1, FEW_ROWS, 300])
def test_linear_product_matches_torch_for_few_and_many_rows(rows):
    layer = Linear(96, 40)
    layer.weight.data[:] = rng.standard_normal((40, 96)).astype(F32)
    layer.bias.data[:] = rng.standard_normal(40).astype(F32)
    x = rng.standard_normal((rows, 96)).astype(F32)
    with nanohf.no_grad():
        ours = layer(x)
    ref = torch.nn.functional.linear(torch.tensor(x), torch.tensor(layer.weight.data), torch.tensor(layer.bias.data))
    assert ours.dtype == F32 and ours.flags.c_contiguous
    # Each output is a float32 sum of 96 products, and the BLAS picks its own summation order per CPU (1.3e-5
    # absolute on values up to ~17 on a Zen 1 EPYC), so |Δ| is judged against the sum of the terms' sizes,
    # Σ|x·w| + |b|: within 1e-6 of it (about 17 float32 ulps; a wrong row or weight is off by O(1) of it).
    scale = np.abs(x) @ np.abs(layer.weight.data).T + np.abs(layer.bias.data)
    error = np.abs(ours - ref.numpy())
    relative = (error / scale).max()
    assert relative < 1e-6, f"rows={rows}: max |Δ| / (Σ|x·w| + |b|) {relative:.2e}, max |Δ| {error.max():.2e}"


TINY = dict(vocab_size=50, dim=32, n_layers=1, n_heads=2, hidden_dim=64, max_position_embeddings=16)


def test_feed_forward_recomputes_its_largest_activation_and_attention_keeps_no_dropped_probs():
    model = nanohf.DistilBertModel(nanohf.DistilBertConfig(**TINY)).train()
    model(np.ones((2, 5), np.int64))
    layer = model.transformer.layer[0]
    assert layer.ffn.lin2._cache[1] is None, "lin2 kept its input although lin1 can recompute it"
    assert layer.ffn.lin1._cache[1] is not None
    assert len(layer.attention.attention_core._cache) == 6  # q, k, v, probs, scale, rotary: no dropout(probs)
    assert all(name.split(".")[-1] != "_input_from" for name, _ in model.named_modules())


def test_feed_forward_keeps_its_input_when_dropout_sits_between():
    config = nanohf.BartConfig(vocab_size=50, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                               decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                               max_position_embeddings=16, activation_dropout=0.3)  # fmt: skip
    model = nanohf.BartModel(config).train()
    ids = np.array([[0, 5, 6, 2]])
    model(input_ids=ids, decoder_input_ids=ids)
    fc2 = model.encoder.layers[0].fc2
    assert fc2._cache[1] is not None, "fc2's input went through dropout: it cannot be recomputed from fc1"


def test_tokenizer_call_restores_the_cycle_collector(minilm_dir):
    """The batch encoder pauses Python's cycle collector (nanohf/tokenizers/base.py); it must come back as it was,
    after an error too."""
    import gc

    tokenizer = nanohf.AutoTokenizer.from_pretrained(minilm_dir)
    assert gc.isenabled()
    assert tokenizer(["a first sentence", "and a second"])["input_ids"][0][0] == tokenizer.cls_token_id
    assert gc.isenabled()
    def broken_encode(*args):
        raise RuntimeError("encoding failed")

    tokenizer._encode = broken_encode
    with pytest.raises(RuntimeError, match="encoding failed"):
        tokenizer(["a sentence"])
    assert gc.isenabled()
    del tokenizer._encode
    gc.disable()
    try:
        tokenizer("stays off")
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("class_name, config", [
    ("BertForMaskedLM", dict(vocab_size=60, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                             intermediate_size=32)),
    ("BartForConditionalGeneration", dict(vocab_size=60, d_model=16, encoder_layers=1, decoder_layers=1,
                                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                                          decoder_ffn_dim=32, max_position_embeddings=32,
                                          tie_word_embeddings=False)),
])  # fmt: skip
def test_loaded_parameters_own_their_memory(make_checkpoint, class_name, config):
    """from_pretrained lets the parameters adopt the arrays it read (no second copy): none may end up shared
    by two distinct parameters, and each must be writable (training updates it in place)."""
    model = getattr(nanohf, class_name).from_pretrained(make_checkpoint(class_name, config))
    params = list({id(p): p for p in model.parameters()}.values())
    for i, p in enumerate(params):
        assert p.data.flags.writeable and p.data.flags.c_contiguous and p.data.dtype == F32
        for q in params[i + 1:]:
            assert not np.shares_memory(p.data, q.data)


def _floating_arrays(value):
    if isinstance(value, np.ndarray):
        return [value] if value.dtype.kind == "f" else []
    if isinstance(value, (tuple, list)):
        return [a for item in value for a in _floating_arrays(item)]
    if hasattr(value, "__dict__") and not isinstance(value, nanohf.nn.Module):  # ModelOutput and friends
        return [a for item in vars(value).values() for a in _floating_arrays(item)]
    return []


@pytest.mark.parametrize("class_name, config", [
    ("BertForSequenceClassification", dict(vocab_size=60, hidden_size=16, num_hidden_layers=2,
                                           num_attention_heads=2, intermediate_size=32)),
    ("DistilBertForSequenceClassification", dict(vocab_size=60, dim=16, n_layers=2, n_heads=2, hidden_dim=32)),
    ("GPT2LMHeadModel", dict(vocab_size=60, n_embd=16, n_layer=2, n_head=2, n_positions=32)),
])  # fmt: skip
def test_every_forward_and_backward_stays_float32(make_checkpoint, class_name, config, monkeypatch):
    """No float64 promotion anywhere: every module's forward output and every backward's returned gradient is
    float32 (and so is every parameter gradient), in train mode with dropout on."""
    from nanohf.nn.module import Module

    seen = []

    def check(where, value):
        for array in _floating_arrays(value):
            seen.append(where)
            assert array.dtype == F32, f"{where} produced {array.dtype}"
        return value

    call = Module.__call__
    monkeypatch.setattr(Module, "__call__", lambda self, *a, **k: check(f"{type(self).__name__}.forward",
                                                                         call(self, *a, **k)))  # fmt: skip
    model = getattr(nanohf, class_name).from_pretrained(make_checkpoint(class_name, config)).train()
    for module in {id(m): m for _, m in model.named_modules()}.values():
        if not hasattr(module, "backward"):  # containers (ModuleList)
            continue
        backward, name = module.backward, type(module).__name__
        module.backward = lambda *a, _b=backward, _n=name, **k: check(f"{_n}.backward", _b(*a, **k))
    ids = np.array([[5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 0, 0]])
    mask = (ids != 0).astype(np.int64)
    labels = ids if class_name.startswith("GPT2") else np.array([0, 1])
    model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
    assert any(w.endswith(".backward") for w in seen) and any(w.endswith(".forward") for w in seen)
    for name, p in model.named_parameters():
        assert p.grad is None or p.grad.dtype == F32, f"{name}.grad is {p.grad.dtype}"


def test_lazy_and_weak_state_stays_out_of_dataset_fingerprints(minilm_dir):
    """Dataset.map caches by a fingerprint of the function and what it holds (a tokenizer, a model): the lazily
    built {id: token} table and Linear's weak reference to its last output are caches, so they must neither change
    the fingerprint nor make it fail."""
    from nanohf.data.fingerprint import hash_value

    tokenizer = nanohf.AutoTokenizer.from_pretrained(minilm_dir)
    before = hash_value(tokenizer)
    tokenizer.decode([101, 2000, 102])
    assert hash_value(tokenizer) == before
    model = nanohf.DistilBertModel(nanohf.DistilBertConfig(**TINY)).train()
    before = hash_value(model)
    model(np.ones((2, 5), np.int64))
    assert hash_value(model) == before


def resident_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def test_release_freed_memory_returns_a_fragmented_heap():
    """Blocks freed in the middle of the heap stay resident until malloc_trim hands their pages back; a C
    library without malloc_trim (macOS, musl) is told so by the return value, and nothing is asked of it."""
    from nanohf.nn import freed_memory

    if freed_memory._malloc_trim is None:
        assert freed_memory.release_freed_memory() is False
        return
    # Freeing an mmap-ed block of 16 MiB (below glibc's 32 MiB cap) raises the mmap threshold to 16 MiB, so the
    # 1 MiB blocks below come from the heap, whatever earlier tests did to the threshold.
    np.ones(4 << 20, dtype=np.float32)
    blocks = [np.ones(1 << 18, dtype=np.float32) for _ in range(100)]  # 100 × 1 MiB, touched
    del blocks[:-1]  # the last one pins the heap's top: only a trim inside the heap can return the rest
    before = resident_mib()
    assert freed_memory.release_freed_memory() is True
    returned = before - resident_mib()
    assert returned >= 50, f"malloc_trim returned {returned:.1f} MiB of the 99 MiB freed"


def test_a_table_sized_embedding_gradient_releases_the_freed_memory_first(monkeypatch):
    """Embedding.backward trims once before allocating a gradient of ≥ 32 MiB, not for small tables or when
    the gradient already exists (a tied head put it there); the gradient is the scatter-add either way."""
    import nanohf.nn.layers as layers

    calls = []
    monkeypatch.setattr(layers, "release_freed_memory", lambda: calls.append(1) or True)
    ids = np.array([[3, 1, 3]])
    for rows, expected_calls in ((8192, 1), (1000, 0)):  # 8,192 × 1,024 floats = 32 MiB, then 4 MB
        table = layers.Embedding(rows, 1024)
        calls.clear()
        table(ids)  # gradients are on by default: the lookup keeps its ids
        d_out = np.ones((1, 3, 1024), dtype=np.float32)
        table.backward(d_out)
        assert len(calls) == expected_calls, (rows, calls)
        assert table.weight.grad[3, 0] == 2 and table.weight.grad[1, 0] == 1 and table.weight.grad[0].sum() == 0
        table(ids)
        table.backward(d_out)  # the gradient exists: added to, no trim
        assert len(calls) == expected_calls and table.weight.grad[3, 0] == 4
