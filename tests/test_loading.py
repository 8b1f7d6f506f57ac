"""Loading and saving checkpoints, with transformers as the judge.

Half-precision and sharded files, base/head prefixes, legacy tensor names, buffers, tied
decoders, save_pretrained round trips in both directions, config round trips, the local hub
cache and crash-safe writes.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers
from conftest import TINY_BERT, TINY_DISTILBERT, ragged_batch, torch_model
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

import nanohf
from nanohf.models import hub

TOL = 1e-4

# Which outputs to compare for each class (QA heads have two logits, base models hidden states).
OUTPUT_KEYS = {
    "BertModel": ("last_hidden_state", "pooler_output"),
    "DistilBertModel": ("last_hidden_state",),
    "BertForQuestionAnswering": ("start_logits", "end_logits"),
    "DistilBertForQuestionAnswering": ("start_logits", "end_logits"),
}
ALL_CLASSES = [
    ("BertModel", TINY_BERT),
    ("BertForSequenceClassification", TINY_BERT),
    ("BertForMaskedLM", TINY_BERT),
    ("BertForTokenClassification", TINY_BERT),
    ("BertForQuestionAnswering", TINY_BERT),
    ("DistilBertModel", TINY_DISTILBERT),
    ("DistilBertForSequenceClassification", TINY_DISTILBERT),
    ("DistilBertForMaskedLM", TINY_DISTILBERT),
    ("DistilBertForTokenClassification", TINY_DISTILBERT),
    ("DistilBertForQuestionAnswering", TINY_DISTILBERT),
]
IDS, MASK = ragged_batch(99)


@pytest.fixture(autouse=True, scope="module")
def quiet_transformers():
    """transformers' load reports and progress bars would drown pytest's output."""
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    yield
    transformers.logging.set_verbosity(verbosity)
    transformers.logging.enable_progress_bar()


def max_diff(a, b) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


def torch_outputs(model, keys, ids=IDS, mask=MASK) -> dict[str, np.ndarray]:
    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
    return {k: out[k].float().numpy() for k in keys}


def nano_outputs(model, keys, ids=IDS, mask=MASK) -> dict[str, np.ndarray]:
    out = model(ids, attention_mask=mask)
    return {k: out[k] for k in keys}


def assert_same_outputs(nano_model, ref_model, keys, tol=TOL) -> None:
    ours, theirs = nano_outputs(nano_model, keys), torch_outputs(ref_model, keys)
    for k in keys:
        assert ours[k].shape == theirs[k].shape, f"{k}: shape {ours[k].shape} != transformers' {theirs[k].shape}"
        diff = max_diff(ours[k], theirs[k])
        assert diff <= tol, f"{k}: max |Δ| {diff:.2e} > {tol:.0e}"


def file_keys(path: Path) -> set[str]:
    with safe_open(str(path), framework="np") as f:
        return set(f.keys())


def temp_files(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


# --- half precision ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype, tag", [(torch.float16, "F16"), (torch.bfloat16, "BF16")], ids=["f16", "bf16"])
@pytest.mark.parametrize(
    "class_name, cfg",
    [("BertForSequenceClassification", TINY_BERT), ("DistilBertForMaskedLM", TINY_DISTILBERT)],
    ids=["bert", "distilbert"],
)
def test_half_precision_checkpoint_loads_as_float32(make_checkpoint, tmp_path, class_name, cfg, dtype, tag):
    src = make_checkpoint(class_name, cfg)
    model_class = getattr(transformers, class_name)
    model_class.from_pretrained(src).to(dtype).save_pretrained(tmp_path)
    with safe_open(str(tmp_path / "model.safetensors"), framework="pt") as f:
        stored = {f.get_slice(k).get_dtype() for k in f.keys()}
    assert stored == {tag}, f"the checkpoint should hold only {tag} tensors, has {stored}"

    nano = getattr(nanohf, class_name).from_pretrained(tmp_path)
    dtypes = {name: p.data.dtype for name, p in nano.named_parameters()}
    assert set(dtypes.values()) == {np.dtype(np.float32)}, f"parameter dtypes {set(dtypes.values())}"

    ref = model_class.from_pretrained(tmp_path, dtype=torch.float32, attn_implementation="eager").eval()
    assert ref.dtype == torch.float32
    # The upcast itself is exact: every parameter equals transformers' float32 copy bit for bit.
    ref_state = ref.state_dict()
    for name, p in nano.named_parameters():
        diff = max_diff(p.data, ref_state[name].numpy())
        assert diff == 0.0, f"{name}: max |Δ| {diff:.2e} after upcasting {tag}"
    assert_same_outputs(nano, ref, OUTPUT_KEYS.get(class_name, ("logits",)))


def test_half_precision_checkpoint_saved_again_says_float32(make_checkpoint, tmp_path):
    """nanohf computes in float32 and saves F32 tensors: config.json must then say dtype float32,
    or transformers (dtype="auto") loads the saved float32 weights back as bfloat16."""
    src = make_checkpoint("BertForSequenceClassification", TINY_BERT)
    transformers.BertForSequenceClassification.from_pretrained(src).to(torch.bfloat16).save_pretrained(
        tmp_path / "bf16"
    )
    nano = nanohf.BertForSequenceClassification.from_pretrained(tmp_path / "bf16")
    nano.save_pretrained(tmp_path / "out")
    with safe_open(str(tmp_path / "out" / "model.safetensors"), framework="pt") as f:
        stored = {f.get_slice(k).get_dtype() for k in f.keys()}
    assert stored == {"F32"}
    saved_dtype = json.loads((tmp_path / "out" / "config.json").read_text()).get("dtype")
    reloaded = transformers.BertForSequenceClassification.from_pretrained(tmp_path / "out")
    assert saved_dtype == "float32" and reloaded.dtype == torch.float32, (
        f"F32 tensors saved with config dtype {saved_dtype!r}; transformers reloads them as {reloaded.dtype}"
    )


# --- sharded checkpoints --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "class_name, cfg",
    [("BertForMaskedLM", TINY_BERT), ("DistilBertForSequenceClassification", TINY_DISTILBERT)],
    ids=["bert-mlm", "distilbert-seqcls"],
)
def test_sharded_checkpoint(make_checkpoint, tmp_path, class_name, cfg):
    src = make_checkpoint(class_name, cfg)
    getattr(transformers, class_name).from_pretrained(src).save_pretrained(tmp_path, max_shard_size="20KB")
    shards = sorted(p.name for p in tmp_path.glob("model-*.safetensors"))
    assert (tmp_path / "model.safetensors.index.json").is_file() and len(shards) > 1, sorted(os.listdir(tmp_path))
    assert not (tmp_path / "model.safetensors").exists()

    nano, info = getattr(nanohf, class_name).from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == [] and info["mismatched_keys"] == []
    assert_same_outputs(nano, torch_model(class_name, tmp_path), OUTPUT_KEYS.get(class_name, ("logits",)))


# --- base-model prefix ----------------------------------------------------------------------------------

PREFIX_CASES = [
    ("BertModel", "BertForSequenceClassification", TINY_BERT),
    ("BertModel", "BertForMaskedLM", TINY_BERT),
    ("DistilBertModel", "DistilBertForSequenceClassification", TINY_DISTILBERT),
    ("DistilBertModel", "DistilBertForMaskedLM", TINY_DISTILBERT),
]
# transformers also lists the second name of a tied parameter as missing; nanohf lists each parameter once.
TIED_ALIASES = {"cls.predictions.decoder.bias"}


@pytest.mark.parametrize("base_name, head_name, cfg", PREFIX_CASES, ids=[c[1] for c in PREFIX_CASES])
def test_base_checkpoint_into_head_model(make_checkpoint, base_name, head_name, cfg):
    folder = make_checkpoint(base_name, cfg)
    nano, info = getattr(nanohf, head_name).from_pretrained(folder, output_loading_info=True)
    _, ref_info = getattr(transformers, head_name).from_pretrained(folder, output_loading_info=True)
    assert set(info["missing_keys"]) == set(ref_info["missing_keys"]) - TIED_ALIASES
    assert info["missing_keys"], "the head is new: its weights must be reported missing"
    prefix = nano.base_model_prefix
    unexpected = {k.removeprefix(prefix + ".") for k in info["unexpected_keys"]}  # names: see the next test
    assert unexpected == set(ref_info["unexpected_keys"])
    # The base model inside the head was loaded: it computes what transformers' base model does.
    keys = ("last_hidden_state",) + (("pooler_output",) if getattr(getattr(nano, prefix), "pooler", None) else ())
    assert_same_outputs(getattr(nano, prefix), torch_model(base_name, folder), keys)


def test_unexpected_keys_are_named_as_in_the_checkpoint(make_checkpoint):
    """A BertModel checkpoint's pooler is unused by BertForMaskedLM. transformers reports the keys the
    checkpoint holds (``pooler.dense.weight``); a name the file does not contain helps nobody."""
    folder = make_checkpoint("BertModel", TINY_BERT)
    _, info = nanohf.BertForMaskedLM.from_pretrained(folder, output_loading_info=True)
    _, ref_info = transformers.BertForMaskedLM.from_pretrained(folder, output_loading_info=True)
    in_file = file_keys(folder / "model.safetensors")
    assert set(info["unexpected_keys"]) <= in_file, (
        f"unexpected keys {sorted(info['unexpected_keys'])} are not names in the checkpoint; transformers "
        f"reports {sorted(ref_info['unexpected_keys'])}"
    )
    assert set(info["unexpected_keys"]) == set(ref_info["unexpected_keys"])


@pytest.mark.parametrize("base_name, head_name, cfg", PREFIX_CASES, ids=[c[1] for c in PREFIX_CASES])
def test_head_checkpoint_into_base_model(make_checkpoint, base_name, head_name, cfg):
    folder = make_checkpoint(head_name, cfg)
    nano, info = getattr(nanohf, base_name).from_pretrained(folder, output_loading_info=True)
    _, ref_info = getattr(transformers, base_name).from_pretrained(folder, output_loading_info=True)
    assert info["unexpected_keys"], "the head's weights must be reported unexpected"
    assert set(info["unexpected_keys"]) == set(ref_info["unexpected_keys"])
    assert set(info["missing_keys"]) == set(ref_info["missing_keys"])
    keys = ("last_hidden_state",)
    if base_name == "BertModel" and not info["missing_keys"]:  # a pooler that was loaded, not drawn at random
        keys += ("pooler_output",)
    assert_same_outputs(nano, torch_model(base_name, folder), keys)


# --- legacy names and buffers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "class_name, cfg",
    [("BertForSequenceClassification", TINY_BERT), ("DistilBertForSequenceClassification", TINY_DISTILBERT)],
    ids=["bert", "distilbert"],
)
def test_legacy_layernorm_gamma_beta(make_checkpoint, tmp_path, class_name, cfg):
    src = make_checkpoint(class_name, cfg)
    renamed = {}
    for key, array in load_file(src / "model.safetensors").items():
        if "LayerNorm" in key or "layer_norm" in key:
            key = key.replace(".weight", ".gamma").replace(".bias", ".beta")
        renamed[key] = array
    assert sum(k.endswith(".gamma") for k in renamed) >= 3, "no LayerNorm key was renamed"
    save_file(renamed, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    shutil.copy(src / "config.json", tmp_path / "config.json")

    nano, info = getattr(nanohf, class_name).from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == [] and info["mismatched_keys"] == []
    assert_same_outputs(nano, torch_model(class_name, src), ("logits",))


def test_position_ids_buffer_of_real_minilm_is_ignored(minilm_dir):
    assert "embeddings.position_ids" in file_keys(minilm_dir / "model.safetensors")
    nano, info = nanohf.BertModel.from_pretrained(minilm_dir, output_loading_info=True)
    assert info["unexpected_keys"] == [] and info["missing_keys"] == []
    ids, mask = ragged_batch(30522, lengths=(9, 4))
    ours = nano(ids, attention_mask=mask).last_hidden_state
    theirs = torch_outputs(torch_model("BertModel", minilm_dir), ("last_hidden_state",), ids, mask)
    diff = max_diff(ours, theirs["last_hidden_state"])
    assert diff <= TOL, f"max |Δ| {diff:.2e} > {TOL:.0e}"
    # Through a head model the buffer's name gains the "bert." prefix and is still ignored.
    _, info = nanohf.BertForSequenceClassification.from_pretrained(minilm_dir, output_loading_info=True)
    assert info["unexpected_keys"] == []
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"]


def test_buffers_in_a_prefixed_checkpoint_are_ignored(make_checkpoint, tmp_path):
    src = make_checkpoint("BertForSequenceClassification", TINY_BERT)
    tensors = load_file(src / "model.safetensors")
    tensors["bert.embeddings.position_ids"] = np.arange(64, dtype=np.int64)[None, :]
    tensors["bert.embeddings.token_type_ids"] = np.zeros((1, 64), dtype=np.int64)
    save_file(tensors, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    shutil.copy(src / "config.json", tmp_path / "config.json")
    for model_class in (nanohf.BertForSequenceClassification, nanohf.BertModel):
        _, info = model_class.from_pretrained(tmp_path, output_loading_info=True)
        assert not any("position_ids" in k or "token_type_ids" in k for k in info["unexpected_keys"]), info


# --- tied decoders ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "class_name, cfg, decoder, embeddings",
    [
        ("BertForMaskedLM", TINY_BERT, "cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight"),
        (
            "DistilBertForMaskedLM",
            TINY_DISTILBERT,
            "vocab_projector.weight",
            "distilbert.embeddings.word_embeddings.weight",
        ),
    ],
    ids=["bert", "distilbert"],
)
def test_tied_mlm_decoder(make_checkpoint, class_name, cfg, decoder, embeddings):
    src = make_checkpoint(class_name, cfg)
    assert decoder not in file_keys(src / "model.safetensors")  # transformers stores the tied weight once
    nano = getattr(nanohf, class_name).from_pretrained(src)
    decoder_param, embedding_param = nano.get_parameter(decoder), nano.get_parameter(embeddings)
    assert decoder_param is embedding_param
    count = sum(p is embedding_param for p in nano.parameters())
    assert count == 1, f"parameters() yields the tied weight {count} times"
    assert sum(name in (decoder, embeddings) for name, _ in nano.named_parameters()) == 1
    diff = max_diff(embedding_param.data, load_file(src / "model.safetensors")[embeddings])
    assert diff == 0.0, f"word embeddings: max |Δ| {diff:.2e} from the checkpoint"
    assert_same_outputs(nano, torch_model(class_name, src), ("logits",))


@pytest.mark.parametrize(
    "head_name, base_name, cfg, embeddings",
    [
        ("BertForMaskedLM", "BertModel", TINY_BERT, "bert.embeddings.word_embeddings.weight"),
        ("DistilBertForMaskedLM", "DistilBertModel", TINY_DISTILBERT, "distilbert.embeddings.word_embeddings.weight"),
    ],
    ids=["bert", "distilbert"],
)
def test_tied_embeddings_survive_a_new_mlm_head(make_checkpoint, head_name, base_name, cfg, embeddings):
    """An MLM head on a base checkpoint: the new head is initialised, but the decoder weight *is* the
    word embeddings, which the checkpoint provides and which must keep the checkpoint's values."""
    folder = make_checkpoint(base_name, cfg)
    nano = getattr(nanohf, head_name).from_pretrained(folder)
    expected = load_file(folder / "model.safetensors")[embeddings.split(".", 1)[1]]
    ref = getattr(transformers, head_name).from_pretrained(folder)
    ref_diff = max_diff(ref.state_dict()[embeddings].numpy(), expected)
    assert ref_diff == 0.0, f"transformers: max |Δ| {ref_diff:.2e}"
    diff = max_diff(nano.get_parameter(embeddings).data, expected)
    assert diff == 0.0, f"{embeddings}: max |Δ| {diff:.2e} from the checkpoint (re-initialised with the new head?)"


def test_partially_present_module_keeps_loaded_weights(make_checkpoint, tmp_path):
    """A checkpoint with classifier.weight but no classifier.bias: transformers loads the weight and
    initialises only the bias."""
    src = make_checkpoint("BertForSequenceClassification", TINY_BERT)
    tensors = load_file(src / "model.safetensors")
    del tensors["classifier.bias"]
    save_file(tensors, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    shutil.copy(src / "config.json", tmp_path / "config.json")
    nano, info = nanohf.BertForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    ref, ref_info = transformers.BertForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == ["classifier.bias"] and set(ref_info["missing_keys"]) == {"classifier.bias"}
    ref_diff = max_diff(ref.classifier.weight.detach().numpy(), tensors["classifier.weight"])
    assert ref_diff == 0.0, f"transformers: max |Δ| {ref_diff:.2e}"
    diff = max_diff(nano.classifier.weight.data, tensors["classifier.weight"])
    assert diff == 0.0, f"classifier.weight: max |Δ| {diff:.2e} from the checkpoint (re-initialised with its bias)"
    assert not np.any(nano.classifier.bias.data), "the missing bias starts at zero"


# --- save_pretrained round trip ------------------------------------------------------------------------------


@pytest.mark.parametrize("class_name, cfg", ALL_CLASSES, ids=[c[0] for c in ALL_CLASSES])
def test_save_pretrained_round_trip(make_checkpoint, tmp_path, class_name, cfg):
    src = make_checkpoint(class_name, cfg)
    nano = getattr(nanohf, class_name).from_pretrained(src)
    nano.save_pretrained(tmp_path)
    saved = tmp_path / "model.safetensors"
    with safe_open(str(saved), framework="np") as f:
        assert f.metadata() == {"format": "pt"}
    assert file_keys(saved) == file_keys(src / "model.safetensors"), "tensor names differ from transformers' file"

    ref, info = getattr(transformers, class_name).from_pretrained(
        tmp_path, output_loading_info=True, attn_implementation="eager"
    )
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    assert ref.config.architectures == [class_name]
    assert_same_outputs(nano, ref.eval(), OUTPUT_KEYS.get(class_name, ("logits",)))
    # ...and nanohf reads its own file back exactly.
    again, info = getattr(nanohf, class_name).from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    for (name, p), (_, q) in zip(nano.named_parameters(), again.named_parameters(), strict=True):
        diff = max_diff(p.data, q.data)
        assert diff == 0.0, f"{name}: max |Δ| {diff:.2e} after save and reload"


# --- configs ---------------------------------------------------------------------------------------------------


def test_unknown_config_keys_survive(make_checkpoint, tmp_path):
    folder = Path(shutil.copytree(make_checkpoint("BertModel", TINY_BERT), tmp_path / "src"))
    config = json.loads((folder / "config.json").read_text())
    config.update(my_custom_field=[1, 2], nested_custom={"a": {"b": None}})
    (folder / "config.json").write_text(json.dumps(config))

    cfg = nanohf.AutoConfig.from_pretrained(folder)
    assert isinstance(cfg, nanohf.BertConfig) and cfg.my_custom_field == [1, 2]
    cfg.save_pretrained(tmp_path / "config-only")
    saved = json.loads((tmp_path / "config-only" / "config.json").read_text())
    assert saved["my_custom_field"] == [1, 2] and saved["nested_custom"] == {"a": {"b": None}}
    again = nanohf.AutoConfig.from_pretrained(tmp_path / "config-only")
    assert again.my_custom_field == [1, 2] and again == cfg
    # Through a model's save_pretrained too; and transformers sees the field.
    nanohf.AutoModel.from_pretrained(folder).save_pretrained(tmp_path / "model")
    assert nanohf.AutoConfig.from_pretrained(tmp_path / "model").nested_custom == {"a": {"b": None}}
    assert transformers.AutoConfig.from_pretrained(tmp_path / "model").my_custom_field == [1, 2]


LABELS = {0: "negative", 1: "neutral", 2: "positive"}


def test_three_labels_round_trip(make_checkpoint, tmp_path):
    label2id = {v: k for k, v in LABELS.items()}
    src = make_checkpoint("BertForSequenceClassification", {**TINY_BERT, "id2label": LABELS, "label2id": label2id})
    nano = nanohf.AutoModelForSequenceClassification.from_pretrained(src)
    assert nano.config.id2label == LABELS and nano.config.label2id == label2id and nano.config.num_labels == 3
    assert nano(IDS, attention_mask=MASK).logits.shape == (3, 3)

    nano.save_pretrained(tmp_path)
    ref_config = transformers.AutoConfig.from_pretrained(tmp_path)
    assert ref_config.id2label == LABELS and ref_config.label2id == label2id and ref_config.num_labels == 3
    assert nanohf.AutoConfig.from_pretrained(tmp_path) == nano.config
    ref, info = transformers.AutoModelForSequenceClassification.from_pretrained(
        tmp_path, output_loading_info=True, attn_implementation="eager"
    )
    assert not info["missing_keys"] and not info["mismatched_keys"]
    assert_same_outputs(nano, ref.eval(), ("logits",))


def test_num_labels_override(make_checkpoint):
    base = make_checkpoint("BertModel", TINY_BERT)
    nano, info = nanohf.BertForSequenceClassification.from_pretrained(base, num_labels=5, output_loading_info=True)
    assert nano.config.num_labels == 5 and len(nano.config.id2label) == 5 and len(nano.config.label2id) == 5
    assert nano(IDS, attention_mask=MASK).logits.shape == (3, 5)
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"]

    three = make_checkpoint("BertForSequenceClassification", {**TINY_BERT, "id2label": LABELS})
    with pytest.raises(ValueError, match=r"'classifier\.(weight|bias)' has shape \(3,?.*expects \(5,?"):
        nanohf.BertForSequenceClassification.from_pretrained(three, num_labels=5)
    nano, info = nanohf.BertForSequenceClassification.from_pretrained(
        three, num_labels=5, ignore_mismatched_sizes=True, output_loading_info=True
    )
    assert {k for k, _, _ in info["mismatched_keys"]} == {"classifier.weight", "classifier.bias"}
    assert nano(IDS, attention_mask=MASK).logits.shape == (3, 5)
    ref = transformers.BertForSequenceClassification.from_pretrained(three, num_labels=5, ignore_mismatched_sizes=True)
    assert nano.config.id2label == ref.config.id2label and nano.config.label2id == ref.config.label2id


def test_distilbert_config_aliases():
    config = nanohf.DistilBertConfig(dim=48, n_heads=6, n_layers=3)
    assert (config.hidden_size, config.num_attention_heads, config.num_hidden_layers) == (48, 6, 3)
    config.hidden_size = 64
    assert config.dim == 64 and config.hidden_size == 64
    built = nanohf.DistilBertConfig(hidden_size=64, num_attention_heads=8, num_hidden_layers=2)
    assert (built.dim, built.n_heads, built.n_layers) == (64, 8, 2)
    ref = transformers.DistilBertConfig(hidden_size=64, num_attention_heads=8, num_hidden_layers=2)
    assert (ref.dim, ref.n_heads, ref.n_layers) == (64, 8, 2)
    assert "hidden_size" not in built.to_dict() and built.to_dict()["dim"] == 64


@pytest.mark.parametrize("name", ["BertConfig", "DistilBertConfig"])
def test_config_defaults_equal_transformers(name):
    ours = json.loads(getattr(nanohf, name)().to_json_string())
    theirs = json.loads(json.dumps(getattr(transformers, name)().to_dict()))  # label ids become strings
    shared = sorted(set(ours) & set(theirs))
    model_specific = set(theirs) - set(transformers.PretrainedConfig().to_dict())
    assert model_specific <= set(ours), f"fields missing from nanohf: {sorted(model_specific - set(ours))}"
    differ = {k: (ours[k], theirs[k]) for k in shared if ours[k] != theirs[k]}
    assert not differ, f"defaults differ (nanohf, transformers): {differ}"


# --- the local hub cache ------------------------------------------------------------------------------------------


def test_hub_name_from_local_cache(make_checkpoint, tmp_path, monkeypatch):
    src = make_checkpoint("BertModel", TINY_BERT)
    repo = tmp_path / "cache" / "models--my-org--tiny-bert"
    shutil.copytree(src, repo / "snapshots" / "abc123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123\n")
    newer = repo / "snapshots" / "newer999"  # a newer snapshot that refs/main does not point at
    newer.mkdir()
    (newer / "config.json").write_text("this is not json")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)

    nano = nanohf.AutoModel.from_pretrained("my-org/tiny-bert")
    assert isinstance(nano, nanohf.BertModel) and nano.config.name_or_path == "my-org/tiny-bert"
    assert_same_outputs(nano, torch_model("BertModel", src), ("last_hidden_state", "pooler_output"))
    assert nanohf.AutoConfig.from_pretrained("my-org/tiny-bert").hidden_size == 32


# --- crash-safe writes ----------------------------------------------------------------------------------------------


def test_save_over_existing_checkpoint(make_checkpoint, tmp_path):
    old = make_checkpoint("BertForSequenceClassification", TINY_BERT, seed=0)
    new = make_checkpoint("BertForSequenceClassification", TINY_BERT, seed=1)
    out = Path(shutil.copytree(old, tmp_path / "out"))
    nano = nanohf.BertForSequenceClassification.from_pretrained(new)
    nano.save_pretrained(out)
    assert temp_files(out) == [], f"left behind: {temp_files(out)}"
    assert sorted(os.listdir(out)) == ["config.json", "model.safetensors"]
    again = nanohf.BertForSequenceClassification.from_pretrained(out)
    diff = max_diff(again(IDS, attention_mask=MASK).logits, nano(IDS, attention_mask=MASK).logits)
    assert diff == 0.0, f"max |Δ| {diff:.2e} after overwriting"


def test_crash_during_save_keeps_previous_file(make_checkpoint, tmp_path, monkeypatch):
    old = make_checkpoint("BertForSequenceClassification", TINY_BERT, seed=0)
    out = Path(shutil.copytree(old, tmp_path / "out"))
    before = (out / "model.safetensors").read_bytes()
    nano = nanohf.BertForSequenceClassification.from_pretrained(make_checkpoint("BertModel", TINY_BERT, seed=1))

    real_replace = os.replace

    def crash_on_weights(src, dst, *args, **kwargs):
        if Path(dst).name == "model.safetensors":
            raise OSError("simulated crash: disk full")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(hub.os, "replace", crash_on_weights)
    with pytest.raises(OSError, match="simulated crash"):
        nano.save_pretrained(out)
    monkeypatch.undo()

    assert (out / "model.safetensors").read_bytes() == before, "the previous model.safetensors was damaged"
    assert temp_files(out) == [], f"left behind: {temp_files(out)}"
    reloaded, info = nanohf.BertForSequenceClassification.from_pretrained(out, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
