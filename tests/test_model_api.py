"""The everyday model API beside the forward pass, each call against transformers 5 on the same checkpoint:
devices and dtypes (to / float / double / half), num_parameters, the embedding accessors, resize_token_embeddings,
the module walkers, can_generate, push_to_hub, save_pretrained's options, and the Loss object."""

import json
import logging
import warnings

import numpy as np
import pytest
import torch
import transformers
from conftest import TINY_BERT, TINY_DISTILBERT, torch_model
from safetensors import safe_open

import nanohf
from nanohf.nn.layers import Embedding, Linear

TINY_ROBERTA = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                    max_position_embeddings=40, type_vocab_size=1)  # fmt: skip
TINY_GPT2 = dict(vocab_size=99, n_positions=64, n_embd=32, n_layer=2, n_head=4, bos_token_id=None, eos_token_id=None,
                 resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)  # fmt: skip
TINY_BART = dict(vocab_size=48, d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                 decoder_attention_heads=2, encoder_ffn_dim=24, decoder_ffn_dim=20,
                 max_position_embeddings=40)  # fmt: skip
CONFIGS = {"Bert": TINY_BERT, "DistilBert": TINY_DISTILBERT, "Roberta": TINY_ROBERTA, "GPT2": TINY_GPT2,
           "Bart": TINY_BART}  # fmt: skip
CLASSES = [
    "BertModel", "BertForMaskedLM", "BertForSequenceClassification", "BertForQuestionAnswering",
    "DistilBertModel", "DistilBertForMaskedLM", "DistilBertForTokenClassification",
    "RobertaModel", "RobertaForMaskedLM", "RobertaForSequenceClassification",
    "GPT2Model", "GPT2LMHeadModel", "GPT2ForSequenceClassification",
    "BartModel", "BartForConditionalGeneration", "BartForSequenceClassification",
]  # fmt: skip
LM_CLASSES = ["BertForMaskedLM", "DistilBertForMaskedLM", "RobertaForMaskedLM", "GPT2LMHeadModel",
              "BartForConditionalGeneration"]  # fmt: skip
LOGITS_TOL = 1e-4


@pytest.fixture(autouse=True)
def quiet():
    transformers.logging.set_verbosity_error()
    logging.getLogger("nanohf").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def config_of(class_name: str, **overrides) -> dict:
    family = next(f for f in sorted(CONFIGS, key=len, reverse=True) if class_name.startswith(f))
    return {**CONFIGS[family], **overrides}


def both(make_checkpoint, class_name: str, **overrides):
    """(nanohf model, transformers model) loaded from one transformers checkpoint."""
    folder = make_checkpoint(class_name, config_of(class_name, **overrides))
    return getattr(nanohf, class_name).from_pretrained(folder), torch_model(class_name, folder)


def ids_for(vocab_size: int, rows: int = 2, seq: int = 7, seed: int = 0) -> np.ndarray:
    ids = np.random.default_rng(seed).integers(3, vocab_size, (rows, seq))
    ids[:, -1] = 2  # BART's classification head reads the last eos
    return ids


def logits_of(model, ids: np.ndarray) -> np.ndarray:
    if isinstance(model, torch.nn.Module):
        with torch.no_grad():
            out = model(torch.tensor(ids))
        return (out.logits if hasattr(out, "logits") else out.last_hidden_state).double().numpy()
    with nanohf.no_grad():
        out = model(ids)
    return np.asarray(out.logits if getattr(out, "logits", None) is not None else out.last_hidden_state, np.float64)


# --- num_parameters, numel, accessors, can_generate --------------------------------------------------------------


@pytest.mark.parametrize("class_name", CLASSES)
def test_num_parameters_accessors_and_can_generate(make_checkpoint, class_name):
    ours, theirs = both(make_checkpoint, class_name)
    for only_trainable in (False, True):
        for exclude_embeddings in (False, True):
            kw = dict(only_trainable=only_trainable, exclude_embeddings=exclude_embeddings)
            assert ours.num_parameters(**kw) == theirs.num_parameters(**kw), f"{class_name} {kw}"
    assert sum(p.numel() for p in ours.parameters() if not p.is_buffer) == ours.num_parameters()

    def name_in(model, module):
        return next((n for n, m in model.named_modules() if m is module), None) if module is not None else None

    assert name_in(ours, ours.get_input_embeddings()) == name_in(theirs, theirs.get_input_embeddings())
    np.testing.assert_array_equal(ours.get_input_embeddings().weight.data,
                                  theirs.get_input_embeddings().weight.detach().numpy())  # fmt: skip
    ours_out, theirs_out = ours.get_output_embeddings(), theirs.get_output_embeddings()
    assert name_in(ours, ours_out) == name_in(theirs, theirs_out), f"{class_name}: output embeddings"
    if ours_out is not None:
        assert ours_out.weight is ours.get_input_embeddings().weight  # tied: one Parameter
    assert getattr(nanohf, class_name).can_generate() == getattr(transformers, class_name).can_generate()
    index_bytes = sum(b.numel() * b.element_size() for b in theirs.buffers() if not b.is_floating_point())
    assert ours.get_memory_footprint() == theirs.get_memory_footprint() - index_bytes
    assert ours.get_memory_footprint(return_buffers=False) == theirs.get_memory_footprint(return_buffers=False)
    name = next(iter(ours.state_dict()))
    assert ours.get_parameter_or_buffer(name) is ours.get_parameter(name)


def test_parameter_numel_and_size():
    p = nanohf.nn.module.Parameter(np.zeros((3, 4), np.float32))
    assert (p.numel(), p.size(), p.size(1), p.dtype, p.ndim) == (12, (3, 4), 4, np.float32, 2)
    t = torch.nn.Parameter(torch.zeros(3, 4))
    assert (t.numel(), tuple(t.size()), t.size(1)) == (p.numel(), p.size(), p.size(1))
    assert p.requires_grad_(False) is p and not p.requires_grad and not p.is_buffer


# --- to(), float(), double(), half() ---------------------------------------------------------------------------


def test_to_device_and_dtype(make_checkpoint):
    ours, theirs = both(make_checkpoint, "GPT2LMHeadModel")
    ids = ids_for(99)
    before = logits_of(ours, ids)
    for device in ("cpu", "cpu:0", torch.device("cpu")):
        assert ours.to(device) is ours and theirs.to(device) is theirs
    assert ours.cpu() is ours and ours.device == "cpu" and ours.to(ours.device) is ours
    np.testing.assert_array_equal(logits_of(ours, ids), before)

    for how in (lambda m: m.to(np.float64), lambda m: m.to("float64"), lambda m: m.to(torch.float64),
                lambda m: m.to(dtype=np.float64), lambda m: m.to("cpu", np.float64), lambda m: m.double()):  # fmt: skip
        ours.float()
        assert how(ours) is ours
        assert {p.dtype for p in ours.parameters()} == {np.dtype(np.float64)}
        assert ours.lm_head.weight is ours.transformer.wte.weight, "the tie survives the cast"
    theirs.to(torch.float64)
    diff = np.abs(logits_of(ours, ids) - logits_of(theirs, ids)).max()
    assert diff < 1e-9, f"float64 logits differ from transformers' float64 model by {diff:.2e}"
    ours.float()
    assert ours.dtype == np.float32 and ours.to(np.zeros(2, np.float64)).dtype == np.float64
    ours.float()

    for device in ("cuda", "cuda:0", "mps", "xpu", 0, torch.device("cuda")):
        with pytest.raises(RuntimeError, match="nanohf runs on the CPU only"):
            ours.to(device)
    with pytest.raises(RuntimeError, match="nanohf runs on the CPU only"):
        ours.cuda()
    for call in (ours.half, ours.bfloat16, lambda: ours.to(torch.float16), lambda: ours.to("bfloat16"),
                 lambda: ours.to(np.float16), lambda: ours.to(dtype=torch.bfloat16)):  # fmt: skip
        with pytest.raises(TypeError, match="NumPy has no bfloat16"):
            call()
    with pytest.raises(TypeError, match="floating point"):
        ours.to(np.int64)
    with pytest.raises(TypeError, match="not a device"):
        ours.to("gpu-please")
    assert ours.dtype == np.float32


# --- module walkers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "class_name", ["BertForSequenceClassification", "GPT2LMHeadModel", "BartForConditionalGeneration"]
)
def test_named_modules_children_apply(make_checkpoint, class_name):
    ours, theirs = both(make_checkpoint, class_name)

    def owners(model, is_torch):  # names of the modules that hold parameters themselves
        if is_torch:
            return {n for n, m in model.named_modules(remove_duplicate=False) if list(m.parameters(recurse=False))}
        return {n for n, m in model.named_modules(remove_duplicate=False) if any(
            isinstance(v, nanohf.nn.module.Parameter) and not v.is_buffer for v in vars(m).values())}  # fmt: skip

    assert owners(ours, False) == owners(theirs, True)
    # Buffers: transformers' float ones (its position_ids / token_type_ids are index tables nanohf computes).
    theirs_buffers = {n for n, b in theirs.named_buffers() if b.is_floating_point()}
    assert {n for n, _ in ours.named_buffers()} == theirs_buffers
    names = [n for n, _ in ours.named_modules()]
    assert names[0] == "" and len(names) == len(set(names)) == len(list(ours.modules()))
    assert [m for m in ours.children()] == [m for _, m in ours.named_children()]
    assert {n for n, _ in ours.named_children()} <= {n for n, _ in theirs.named_children()}

    visited = []
    assert ours.apply(visited.append) is ours
    assert visited[-1] is ours and len(visited) == len(list(ours.modules())) and visited[0] is not ours
    # transformers' idiom: re-initialise through apply.
    linears = [m for m in ours.modules() if isinstance(m, Linear)]
    before = linears[0].weight.data.copy()
    ours.apply(ours._init_weights)
    assert not np.array_equal(before, linears[0].weight.data)
    before = linears[0].weight.data.copy()
    ours.init_weights()
    assert not np.array_equal(before, linears[0].weight.data)
    assert np.all([m.weight.data.std() > 0 for m in linears])
    assert ours.get_submodule(names[-1]) is list(ours.modules())[-1]


# --- resize_token_embeddings ---------------------------------------------------------------------------------


def vocab_buffers(model):
    return [p for _, p in model.named_buffers()]


@pytest.mark.parametrize("class_name", LM_CLASSES)
def test_resize_grow_mean_init_ties_and_logits(make_checkpoint, class_name):
    ours, theirs = both(make_checkpoint, class_name)
    vocab = ours.config.vocab_size
    old = ours.get_input_embeddings().weight.data.copy()
    new_vocab = vocab + 13
    returned = ours.resize_token_embeddings(new_vocab)
    theirs.resize_token_embeddings(new_vocab)
    assert returned is ours.get_input_embeddings() and ours.config.vocab_size == theirs.config.vocab_size == new_vocab
    ours_w, theirs_w = ours.get_input_embeddings().weight.data, theirs.get_input_embeddings().weight.detach().numpy()
    assert ours_w.shape == theirs_w.shape == (new_vocab, old.shape[1])
    np.testing.assert_array_equal(ours_w[:vocab], old)
    # New rows: N(mean, 1e-9·cov) in both, so each is the old mean to ~1e-6.
    mean = old.mean(axis=0)
    ours_dev, theirs_dev = np.abs(ours_w[vocab:] - mean).max(), np.abs(theirs_w[vocab:] - mean).max()
    assert ours_dev < 1e-5 and theirs_dev < 1e-5, (
        f"new rows from the mean: ours {ours_dev:.2e}, theirs {theirs_dev:.2e}"
    )
    out = ours.get_output_embeddings()
    assert out.weight is ours.get_input_embeddings().weight, "the LM head stays tied: the same Parameter"
    if out.bias is not None:
        theirs_b = theirs.get_output_embeddings().bias.detach().numpy()
        np.testing.assert_array_equal(out.bias.data, theirs_b)  # tied head: zeros for the new tokens, as transformers
    for buffer in vocab_buffers(ours):  # BART's final_logits_bias
        np.testing.assert_array_equal(buffer.data, theirs.final_logits_bias.numpy())
    ids = ids_for(new_vocab, seed=1)
    ids[:, 1:3] = [vocab + 1, vocab + 12]  # new tokens in the input too
    diff = np.abs(logits_of(ours, ids) - logits_of(theirs, ids)).max()
    assert diff < LOGITS_TOL, f"{class_name}: logits after resizing differ by {diff:.2e}"


@pytest.mark.parametrize("class_name", ["BertForMaskedLM", "GPT2LMHeadModel", "BartForConditionalGeneration"])
def test_resize_shrink_and_pad_to_multiple_of(make_checkpoint, class_name):
    ours, theirs = both(make_checkpoint, class_name)
    vocab = ours.config.vocab_size
    assert ours.resize_token_embeddings() is ours.get_input_embeddings() and ours.config.vocab_size == vocab
    for args in ((vocab - 10,), (None, 64), (vocab + 1, 8)):
        ours.resize_token_embeddings(*args)
        theirs.resize_token_embeddings(*args)
        assert ours.config.vocab_size == theirs.config.vocab_size, f"{args}"
        assert ours.get_output_embeddings().weight.shape == tuple(theirs.get_output_embeddings().weight.shape)
    theirs_rows = theirs.get_input_embeddings().weight.shape[0]
    ids = ids_for(vocab - 10, seed=2)
    ours_w, theirs_w = ours.get_input_embeddings().weight.data, theirs.get_input_embeddings().weight.detach().numpy()
    np.testing.assert_array_equal(ours_w[: vocab - 10], theirs_w[: vocab - 10])
    assert ours_w.shape[0] == theirs_rows
    diff = np.abs(logits_of(ours, ids) - logits_of(theirs, ids)).max()
    assert diff < LOGITS_TOL, f"{class_name}: logits after shrink and pad differ by {diff:.2e}"
    with pytest.raises(ValueError, match="not and integer"):
        ours.resize_token_embeddings(100, pad_to_multiple_of=2.5)


def test_resize_padding_idx_dropped_when_cut(make_checkpoint):
    ours, theirs = both(make_checkpoint, "BertForMaskedLM", pad_token_id=50)
    ours.resize_token_embeddings(40)
    theirs.resize_token_embeddings(40)
    assert ours.get_input_embeddings().padding_idx is theirs.get_input_embeddings().padding_idx is None


@pytest.mark.parametrize("class_name", ["GPT2LMHeadModel", "DistilBertForMaskedLM"])
def test_resize_untied_head(make_checkpoint, class_name):
    ours, theirs = both(make_checkpoint, class_name, tie_word_embeddings=False)
    vocab = ours.config.vocab_size
    head = ours.get_output_embeddings()
    assert head.weight is not ours.get_input_embeddings().weight
    old_head, old_bias = head.weight.data.copy(), None if head.bias is None else head.bias.data.copy()
    ours.resize_token_embeddings(vocab + 9)
    theirs.resize_token_embeddings(vocab + 9)
    theirs_head = theirs.get_output_embeddings()
    np.testing.assert_array_equal(head.weight.data[:vocab], old_head)
    head_dev = np.abs(head.weight.data[vocab:] - old_head.mean(axis=0)).max()
    assert head_dev < 1e-5, f"new head rows are the old head rows' mean to {head_dev:.2e}"
    diff = np.abs(head.weight.data - theirs_head.weight.detach().numpy()).max()
    assert diff < 1e-5, f"untied head after resizing differs from transformers' by {diff:.2e}"
    if old_bias is not None:
        bias_diff = np.abs(head.bias.data - theirs_head.bias.detach().numpy()).max()
        assert bias_diff < 1e-6, f"new bias entries (N(mean, 1e-9 std)) differ from transformers' by {bias_diff:.2e}"
    ids = ids_for(vocab + 9, seed=3)
    diff = np.abs(logits_of(ours, ids) - logits_of(theirs, ids)).max()
    assert diff < LOGITS_TOL, f"{class_name} untied: logits after resizing differ by {diff:.2e}"


def test_resize_statistics_of_new_rows(make_checkpoint):
    """The spread of the added rows: N(mean, 1e-9·cov) with mean_resizing, N(0, initializer_range) without."""
    ours, theirs = both(make_checkpoint, "GPT2LMHeadModel")
    vocab, added = ours.config.vocab_size, 3000
    old = ours.get_input_embeddings().weight.data.astype(np.float64).copy()
    nanohf.set_seed(0)
    torch.manual_seed(0)
    ours.resize_token_embeddings(vocab + added)
    theirs.resize_token_embeddings(vocab + added)
    ours_new = ours.get_input_embeddings().weight.data[vocab:].astype(np.float64)
    theirs_new = theirs.get_input_embeddings().weight.detach().numpy()[vocab:].astype(np.float64)
    expected_std = np.sqrt(1e-9 * np.diag(np.cov(old.T, bias=True)))  # per dimension
    for label, new in (("ours", ours_new), ("transformers", theirs_new)):
        ratio = new.std(axis=0) / expected_std
        assert np.all(np.abs(ratio - 1) < 0.15), (
            f"{label}: std of new rows / sqrt(1e-9 var) in [{ratio.min():.3f}, {ratio.max():.3f}]"
        )
        mean_err = np.abs(new.mean(axis=0) - old.mean(axis=0)).max()
        assert mean_err < 1e-6, f"{label}: mean of new rows off the old mean by {mean_err:.2e}"
    ours_corr, theirs_corr = np.corrcoef(ours_new.T), np.corrcoef(theirs_new.T)
    corr_diff = np.abs(ours_corr - theirs_corr).max()
    assert corr_diff < 0.15, f"correlations of the new rows (the covariance's shape) differ by {corr_diff:.3f}"

    ours, theirs = both(make_checkpoint, "GPT2LMHeadModel")  # fresh copies
    ours.resize_token_embeddings(vocab + added, mean_resizing=False)
    theirs.resize_token_embeddings(vocab + added, mean_resizing=False)
    std = ours.config.initializer_range
    for label, model_w in (("ours", ours.get_input_embeddings().weight.data),
                           ("transformers", theirs.get_input_embeddings().weight.detach().numpy())):  # fmt: skip
        new = model_w[vocab:].astype(np.float64)
        assert abs(new.std() / std - 1) < 0.03 and abs(new.mean()) < 0.03 * std, (
            f"{label}: mean_resizing=False rows have mean {new.mean():.2e}, std {new.std():.4f} (expected 0, {std})"
        )


def test_resized_model_trains_saves_and_loads(make_checkpoint, tmp_path):
    ours, _ = both(make_checkpoint, "GPT2LMHeadModel")
    vocab = ours.config.vocab_size
    ours.resize_token_embeddings(vocab + 5)
    ids = ids_for(vocab + 5, seed=4)
    ids[0, 2] = vocab + 4
    ours.train()
    optimizer = nanohf.AdamW(ours.parameters(), lr=1e-2)
    losses = []
    for _ in range(3):
        loss = ours(ids, labels=ids).loss
        loss.backward()
        assert ours.get_input_embeddings().weight.grad.shape == (vocab + 5, 32)
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss))
    assert losses[-1] < losses[0], f"training after resizing: losses {losses}"
    assert ours.lm_head.weight is ours.transformer.wte.weight
    ours.eval().save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["vocab_size"] == vocab + 5
    again, theirs = nanohf.GPT2LMHeadModel.from_pretrained(tmp_path), torch_model("GPT2LMHeadModel", tmp_path)
    for reloaded in (again, theirs):
        diff = np.abs(logits_of(ours, ids) - logits_of(reloaded, ids)).max()
        assert diff < LOGITS_TOL, f"{type(reloaded).__module__}: reloaded resized model differs by {diff:.2e}"


def test_set_input_and_output_embeddings(make_checkpoint):
    ours, _ = both(make_checkpoint, "BartForConditionalGeneration")
    table = Embedding(48, 16, padding_idx=1)
    table.weight.data[...] = np.random.default_rng(0).normal(0, 0.02, (48, 16))
    ours.set_input_embeddings(table)
    assert ours.get_input_embeddings() is table
    assert ours.model.encoder.embed_tokens is table and ours.model.decoder.embed_tokens is table  # as BartModel's
    mlm, _ = both(make_checkpoint, "BertForMaskedLM")
    head = Linear(32, 99)
    mlm.set_output_embeddings(head)
    assert mlm.get_output_embeddings() is head and mlm.cls.predictions.decoder is head
    assert mlm.cls.predictions.bias is head.bias  # as transformers' BertForMaskedLM.set_output_embeddings
    assert nanohf.BertModel(nanohf.BertConfig(**TINY_BERT)).get_output_embeddings() is None


# --- push_to_hub and save_pretrained ------------------------------------------------------------------------


def test_push_to_hub_is_a_clear_offline_error(make_checkpoint, tmp_path):
    ours, _ = both(make_checkpoint, "BertModel")
    for call in (lambda: ours.push_to_hub("me/tiny"), lambda: ours.config.push_to_hub("me/tiny"),
                 lambda: ours.save_pretrained(tmp_path / "x", push_to_hub=True)):  # fmt: skip
        with pytest.raises(OSError, match="never uploads to the Hugging Face Hub.*save_pretrained"):
            call()


def files_and_index(folder):
    files = sorted(p.name for p in folder.iterdir())
    index_path = folder / "model.safetensors.index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else None
    return files, index


@pytest.mark.parametrize("class_name", ["BertForMaskedLM", "BartForConditionalGeneration"])
def test_save_pretrained_options_as_transformers(make_checkpoint, tmp_path, class_name):
    ours, theirs = both(make_checkpoint, class_name)
    calls = []
    kwargs = dict(save_function=lambda obj, path: calls.append(path), safe_serialization=False)
    ours.save_pretrained(tmp_path / "ours", **kwargs)
    theirs.save_pretrained(tmp_path / "theirs", **kwargs)
    assert not calls, "transformers 5 never calls save_function (safetensors always)"
    assert files_and_index(tmp_path / "ours") == files_and_index(tmp_path / "theirs")
    with safe_open(str(tmp_path / "ours" / "model.safetensors"), "np") as f, \
            safe_open(str(tmp_path / "theirs" / "model.safetensors"), "np") as g:  # fmt: skip
        assert sorted(f.keys()) == sorted(g.keys()) and f.metadata() == g.metadata()

    # Sharded: same files, same weight map and metadata; both libraries load the shards.
    for shard_size in ("20KB", 30_000):
        ours.save_pretrained(tmp_path / f"ours{shard_size}", max_shard_size=shard_size)
        theirs.save_pretrained(tmp_path / f"theirs{shard_size}", max_shard_size=shard_size)
        ours_files, ours_index = files_and_index(tmp_path / f"ours{shard_size}")
        theirs_files, theirs_index = files_and_index(tmp_path / f"theirs{shard_size}")
        assert len(ours_files) > 3 and ours_files == theirs_files
        assert ours_index == theirs_index, f"{shard_size}: shard index differs"
    ids = ids_for(ours.config.vocab_size, seed=5)
    for loaded in (getattr(nanohf, class_name).from_pretrained(tmp_path / "ours20KB"),
                   torch_model(class_name, tmp_path / "ours20KB")):  # fmt: skip
        diff = np.abs(logits_of(ours, ids) - logits_of(loaded, ids)).max()
        assert diff < LOGITS_TOL, f"sharded save reloaded: logits differ by {diff:.2e}"
    # Saving unsharded into the same folder leaves only the new single file.
    ours.save_pretrained(tmp_path / "ours20KB")
    assert files_and_index(tmp_path / "ours20KB") == files_and_index(tmp_path / "ours")

    ours.save_pretrained(tmp_path / "rank1", is_main_process=False)
    theirs.save_pretrained(tmp_path / "rank1-theirs", is_main_process=False)
    assert not list((tmp_path / "rank1").iterdir()) and not list((tmp_path / "rank1-theirs").iterdir())

    part = {k: v for k, v in ours.state_dict().items() if "layer" not in k and "layers" not in k}
    ours.save_pretrained(tmp_path / "part", state_dict=part)
    theirs.save_pretrained(
        tmp_path / "part-theirs", state_dict={k: v for k, v in theirs.state_dict().items() if k in part}
    )
    with safe_open(str(tmp_path / "part" / "model.safetensors"), "np") as f, \
            safe_open(str(tmp_path / "part-theirs" / "model.safetensors"), "np") as g:  # fmt: skip
        assert sorted(f.keys()) == sorted(g.keys())
    ours.save_pretrained(tmp_path / "variant", variant="v2")
    assert (tmp_path / "variant" / "model.v2.safetensors").is_file()


# --- Loss -----------------------------------------------------------------------------------------------------------


def test_loss_behaves_like_a_0d_tensor(make_checkpoint):
    ours, theirs = both(make_checkpoint, "BertForSequenceClassification")
    ids, labels = ids_for(99, rows=3), np.array([0, 1, 1])
    loss = ours(ids, labels=labels).loss
    theirs_loss = theirs(torch.tensor(ids), labels=torch.tensor(labels)).loss
    ref = theirs_loss.item()
    assert abs(loss.item() - ref) < 1e-5 and abs(float(loss) - ref) < 1e-5
    assert format(loss, ".4f") == format(ref, ".4f") and np.asarray(loss).shape == () and loss.shape == ()
    np.testing.assert_allclose(loss.repeat(4), theirs_loss.repeat(4).detach().numpy(), atol=1e-5)
    assert loss.repeat(4).shape == (4,) and loss.repeat(2, 3).shape == (2, 3)
    assert np.concatenate([loss.repeat(2), loss.repeat(3)]).shape == (5,)  # what accelerator.gather concatenates
    t = theirs_loss.detach()
    pairs = ((loss + 1, t + 1), (2 - loss, 2 - t), (loss * 3, t * 3), (loss / 4, t / 4), (-loss, -t),
             (loss**2, t**2), (1 / loss, 1 / t), (loss + loss, t + t))  # fmt: skip
    for ours_value, theirs_value in pairs:
        assert abs(float(ours_value) - theirs_value.item()) < 1e-5
    assert (loss < ref + 1) and (loss > ref - 1) and (loss >= loss) and not (loss != loss)
    assert abs(float(np.exp(loss)) - float(torch.exp(t))) < 1e-4 and abs(np.mean([loss, loss]) - ref) < 1e-5
    assert abs(loss.detach().float().item() - ref) < 1e-5 and loss.cpu() is loss

    # The way back survives c·loss, loss / c, loss ± c (gradient scaled by c, 1/c, 1): compare the gradients.
    def grad_after(make):
        ours.zero_grad()
        make(ours(ids, labels=labels).loss).backward()
        return ours.classifier.weight.grad.copy()

    plain = grad_after(lambda x: x)
    for make, factor in ((lambda x: x / 4, 0.25), (lambda x: np.float32(0.5) * x, 0.5), (lambda x: x + 3, 1.0),
                         (lambda x: 3 - x, -1.0), (lambda x: (x * 2) / 8, 0.25)):  # fmt: skip
        np.testing.assert_allclose(grad_after(make), factor * plain, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grad_after(lambda x: x.backward(np.float32(2.0)) or _Done()), 2 * plain, rtol=1e-5)
    fresh = ours(ids, labels=labels).loss
    assert fresh.requires_grad and not fresh.detach().requires_grad
    with pytest.raises(RuntimeError, match="no autograd tape"):
        fresh.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="does not differentiate"):
        (ours(ids, labels=labels).loss ** 2).backward()
    with pytest.raises(RuntimeError, match="detached"):
        ours(ids, labels=labels).loss.detach().backward()


class _Done:
    """What a grad_after step returns when it ran backward itself."""

    def backward(self):
        pass


def test_from_pretrained_unknown_keyword_is_an_error_as_transformers(make_checkpoint):
    folder = make_checkpoint("BertModel", TINY_BERT)
    with pytest.raises(TypeError) as theirs:
        transformers.BertModel.from_pretrained(folder, no_such_option=1)
    with pytest.raises(TypeError) as ours:
        nanohf.BertModel.from_pretrained(folder, no_such_option=1)
    assert str(ours.value) == str(theirs.value)
    model = nanohf.BertModel.from_pretrained(folder, hidden_dropout_prob=0.4, attn_implementation="eager",
                                             device_map="cpu", cache_dir=None, torch_dtype=torch.float64)  # fmt: skip
    assert model.config.hidden_dropout_prob == 0.4 and model.dtype == np.float64
    with pytest.raises(RuntimeError, match="CPU only"):
        nanohf.BertModel.from_pretrained(folder, device_map="cuda")
    with pytest.raises(TypeError, match="quantized"):
        nanohf.BertModel.from_pretrained(folder, load_in_8bit=True)


def test_real_checkpoint_counts_and_config(minilm_dir, tmp_path):
    """all-MiniLM-L6-v2: the counts transformers gives, and the config.json it writes."""
    ours, theirs = nanohf.AutoModel.from_pretrained(minilm_dir), transformers.AutoModel.from_pretrained(minilm_dir)
    for exclude_embeddings in (False, True):
        assert ours.num_parameters(exclude_embeddings=exclude_embeddings) == theirs.num_parameters(
            exclude_embeddings=exclude_embeddings
        )
    ours.save_pretrained(tmp_path / "ours")
    theirs.save_pretrained(tmp_path / "theirs")
    written = [json.loads((tmp_path / side / "config.json").read_text()) for side in ("ours", "theirs")]
    ours_json, theirs_json = written
    differ = {k: (ours_json.get(k), theirs_json.get(k)) for k in set(ours_json) | set(theirs_json)
              if ours_json.get(k) != theirs_json.get(k)}  # fmt: skip
    assert not differ, f"config.json differs (ours, transformers): {differ}"


def test_smaller_model_methods_as_transformers(make_checkpoint, caplog):
    ours, theirs = both(make_checkpoint, "BertModel")
    for model in (ours, theirs):
        with pytest.raises(NotImplementedError, match="get_position_embeddings"):
            model.get_position_embeddings()
        with pytest.raises(NotImplementedError, match="resize_position_embeddings"):
            model.resize_position_embeddings(100)
    assert not ours.is_remote_code() and not ours.is_custom_code() and not ours.config.is_custom_code()
    assert not ours.config.is_remote_code()

    class MyModel(nanohf.BertModel):
        pass

    assert MyModel.is_custom_code()
    ours.tie_weights(missing_keys=set(), recompute_mapping=False)
    ours.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    ours.gradient_checkpointing_disable()
    assert ours.is_gradient_checkpointing is False
    logging.getLogger("nanohf").setLevel(logging.WARNING)
    padded = np.array([[5, 6, 0], [5, 0, 0]])
    nanohf.models.modeling_utils._WARNED.clear()  # once per process: start from none given
    for model, ids in ((ours, padded), (theirs, torch.tensor(padded))):
        with caplog.at_level(logging.WARNING):
            caplog.clear()
            model.warn_if_padding_and_no_attention_mask(ids, None)
            model.warn_if_padding_and_no_attention_mask(ids, np.ones_like(padded))
        if model is ours:
            assert any("strongly recommend passing in an `attention_mask`" in r.message for r in caplog.records)
    config_path = make_checkpoint("BertModel", TINY_BERT) / "config.json"
    assert nanohf.BertConfig.from_json_file(json_file=config_path).hidden_size == TINY_BERT["hidden_size"]


@pytest.mark.parametrize("class_name", ["GPT2LMHeadModel", "BartForConditionalGeneration"])
def test_generation_config_written_as_transformers(make_checkpoint, tmp_path, class_name):
    ours, theirs = both(make_checkpoint, class_name)
    ours.save_pretrained(tmp_path / "ours")
    theirs.save_pretrained(tmp_path / "theirs")
    written = [json.loads((tmp_path / side / "generation_config.json").read_text()) for side in ("ours", "theirs")]
    assert written[0] == written[1]
    # A checkpoint with its own generation settings: kept through a save, the same file as transformers writes.
    src = tmp_path / "src"
    ours.save_pretrained(src)
    settings = {"max_new_tokens": 12, "do_sample": True, "top_k": 7}
    (src / "generation_config.json").write_text(json.dumps(settings))
    getattr(nanohf, class_name).from_pretrained(src).save_pretrained(tmp_path / "ours2")
    torch_model(class_name, src).save_pretrained(tmp_path / "theirs2")
    written = [json.loads((tmp_path / side / "generation_config.json").read_text()) for side in ("ours2", "theirs2")]
    assert written[0] == written[1]
    reloaded = getattr(nanohf, class_name).from_pretrained(tmp_path / "ours2").generation_config
    assert (reloaded.max_new_tokens, reloaded.do_sample, reloaded.top_k) == (12, True, 7)
    assert nanohf.BertModel(nanohf.BertConfig(**TINY_BERT)).can_generate() is False
