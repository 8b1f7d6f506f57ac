"""Bad input gets a clear Python exception that names the problem.

Never a segfault, a NumPy IndexError deep inside a layer, or a silent wrong answer: every
corrupt file, mismatched checkpoint, missing folder and malformed model input below must raise
an exception whose message names the file, the tensor, the shape or the id at fault.
"""

import json
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_BERT, TINY_DISTILBERT
from safetensors.numpy import load_file

import nanohf
from nanohf.models.safetensors_io import SafetensorsError, load_safetensors

# --- helpers -----------------------------------------------------------------------------------------


@pytest.fixture
def bert_folder(make_checkpoint, tmp_path) -> Path:
    """A private copy of a tiny BertForSequenceClassification checkpoint, free to corrupt."""
    src = make_checkpoint("BertForSequenceClassification", TINY_BERT)
    return Path(shutil.copytree(src, tmp_path / "ckpt"))


def split_safetensors(path: Path) -> tuple[dict, bytes]:
    """``(header including __metadata__, data section)`` of a safetensors file."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def write_safetensors(path: Path, header: dict, data: bytes) -> None:
    """Write a (possibly inconsistent) safetensors file byte by byte, bypassing every check."""
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + data)


def tensor_names(header: dict) -> list[str]:
    return [k for k in header if k != "__metadata__"]


def edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


# --- corrupt safetensors files --------------------------------------------------------------------


def test_file_cut_in_half(bert_folder):
    path = bert_folder / "model.safetensors"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(
        SafetensorsError, match=rf"{re.escape(str(path))}: tensor '[\w.]+' has data_offsets .* truncated"
    ):
        nanohf.BertForSequenceClassification.from_pretrained(bert_folder)


def test_file_cut_inside_the_header(bert_folder):
    path = bert_folder / "model.safetensors"
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    path.write_bytes(raw[: 8 + n // 2])
    with pytest.raises(SafetensorsError, match=rf"{re.escape(str(path))}: header length {n} runs past the end"):
        nanohf.BertForSequenceClassification.from_pretrained(bert_folder)


@pytest.mark.parametrize("size", [0, 1, 7])
def test_file_shorter_than_8_bytes(bert_folder, size):
    path = bert_folder / "model.safetensors"
    path.write_bytes(path.read_bytes()[:size])
    with pytest.raises(SafetensorsError, match=rf"{re.escape(str(path))}: {size} bytes is too short"):
        nanohf.BertForSequenceClassification.from_pretrained(bert_folder)


def test_header_length_past_end_of_file(bert_folder):
    path = bert_folder / "model.safetensors"
    raw = bytearray(path.read_bytes())
    raw[:8] = struct.pack("<Q", len(raw) * 10)
    path.write_bytes(bytes(raw))
    with pytest.raises(SafetensorsError, match=rf"header length {len(raw) * 10} runs past the end of the file"):
        load_safetensors(path)
    # The largest u64 must not overflow anything either: past the format's 100 MB header limit.
    raw[:8] = struct.pack("<Q", 2**64 - 1)
    path.write_bytes(bytes(raw))
    with pytest.raises(SafetensorsError, match=rf"{re.escape(str(path))}: header length {2**64 - 1} is larger than"):
        load_safetensors(path)


@pytest.mark.parametrize("garbage", [b"{not json", b"\xff\xfe\x00 binary", b""], ids=["syntax", "not-utf8", "empty"])
def test_header_not_json(tmp_path, garbage):
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(garbage)) + garbage + b"\x00" * 16)
    with pytest.raises(SafetensorsError, match=rf"{re.escape(str(path))}: header is not valid (JSON|UTF-8)"):
        load_safetensors(path)


def test_header_not_an_object(tmp_path):
    path = tmp_path / "model.safetensors"
    write_safetensors(path, [1, 2, 3], b"")  # type: ignore[arg-type]
    with pytest.raises(SafetensorsError, match="header must be a JSON object"):
        load_safetensors(path)


def test_data_offsets_out_of_range(bert_folder):
    path = bert_folder / "model.safetensors"
    header, data = split_safetensors(path)
    name = tensor_names(header)[0]
    begin, end = header[name]["data_offsets"]
    shift = len(data)  # same length, but starting past the end of the data section
    header[name]["data_offsets"] = [begin + shift, end + shift]
    write_safetensors(path, header, data)
    with pytest.raises(
        SafetensorsError,
        match=rf"{re.escape(str(path))}: tensor {re.escape(repr(name))} has data_offsets "
        rf"\[{begin + shift}, {end + shift}\] outside the data section of {len(data)} bytes",
    ):
        nanohf.BertForSequenceClassification.from_pretrained(bert_folder)


def test_negative_data_offsets(tmp_path):
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {"a": {"dtype": "F32", "shape": [4], "data_offsets": [-16, 0]}}, b"\x00" * 16)
    with pytest.raises(SafetensorsError, match=r"tensor 'a' has invalid data_offsets \[-16, 0\]"):
        load_safetensors(path)


def test_data_offsets_disagree_with_dtype_and_shape(bert_folder):
    path = bert_folder / "model.safetensors"
    header, data = split_safetensors(path)
    name = "bert.embeddings.word_embeddings.weight"
    assert header[name]["shape"] == [99, 32] and header[name]["dtype"] == "F32"
    header[name]["shape"] = [99, 31]  # offsets still span 99*32*4 bytes
    write_safetensors(path, header, data)
    with pytest.raises(
        SafetensorsError,
        match=rf"tensor '{re.escape(name)}' of dtype F32 and shape \[99, 31\] needs {99 * 31 * 4} bytes, "
        rf"its data_offsets span {99 * 32 * 4}",
    ):
        nanohf.BertForSequenceClassification.from_pretrained(bert_folder)


def test_data_offsets_disagree_with_dtype(tmp_path):
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {"a": {"dtype": "F16", "shape": [4], "data_offsets": [0, 16]}}, b"\x00" * 16)
    with pytest.raises(SafetensorsError, match=r"tensor 'a' of dtype F16 and shape \[4\] needs 8 bytes"):
        load_safetensors(path)


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"shape": [4], "data_offsets": [0, 16]}, "lacks dtype, shape or data_offsets"),
        ({"dtype": "F99", "shape": [4], "data_offsets": [0, 16]}, "unknown dtype 'F99'"),
        ({"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}, r"invalid shape \[-4\]"),
        ({"dtype": "F32", "shape": [4], "data_offsets": [0]}, r"invalid data_offsets \[0\]"),
        ({"dtype": ["F32"], "shape": [4], "data_offsets": [0, 16]}, "dtype"),  # not a string at all
    ],
    ids=["no-dtype", "unknown-dtype", "negative-dim", "one-offset", "dtype-is-a-list"],
)
def test_malformed_tensor_entry(tmp_path, entry, message):
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {"a": entry}, b"\x00" * 16)
    with pytest.raises(SafetensorsError, match=rf"{re.escape(str(path))}: tensor 'a' .*{message}"):
        load_safetensors(path)


def test_overlapping_data_offsets(tmp_path):
    """Two tensors claiming the same bytes: the header is corrupt and the error must say which file."""
    path = tmp_path / "model.safetensors"
    entry = {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}
    write_safetensors(path, {"a": entry, "b": dict(entry)}, b"\x00" * 32)
    with pytest.raises(SafetensorsError, match=rf"{re.escape(str(path))}: .*tensor '[ab]'"):
        load_safetensors(path)


def test_data_section_with_bytes_no_tensor_owns(tmp_path):
    """Trailing bytes after the last tensor (a file overwritten in place by a shorter one)."""
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\x00" * 32)
    with pytest.raises(SafetensorsError, match=rf"{re.escape(str(path))}: .*(16|32) bytes"):
        load_safetensors(path)


# --- checkpoints that do not fit the config ---------------------------------------------------------


@pytest.mark.parametrize("how", ["override", "config.json"])
def test_shape_mismatch_names_tensor_and_both_shapes(bert_folder, how):
    if how == "config.json":
        edit_config(bert_folder, intermediate_size=40)
        kwargs = {}
    else:
        kwargs = {"intermediate_size": 40}
    with pytest.raises(
        ValueError,
        match=r"checkpoint tensor 'bert\.encoder\.layer\.\d\.(intermediate|output)\.dense\.(weight|bias)' has shape "
        r"\((37|32, 37|37, 32),?\), but the model \(from its config\) expects \((40|32, 40|40, 32),?\)"
        r".*ignore_mismatched_sizes=True",
    ):
        nanohf.BertForSequenceClassification.from_pretrained(bert_folder, **kwargs)


def test_ignore_mismatched_sizes_reinitialises_and_reports(bert_folder):
    ckpt = load_file(bert_folder / "model.safetensors")
    model, info = nanohf.BertForSequenceClassification.from_pretrained(
        bert_folder, intermediate_size=40, ignore_mismatched_sizes=True, output_loading_info=True
    )
    expected = set()
    for i in range(TINY_BERT["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}."
        expected |= {
            (p + "intermediate.dense.weight", (37, 32), (40, 32)),
            (p + "intermediate.dense.bias", (37,), (40,)),
            (p + "output.dense.weight", (32, 37), (32, 40)),
        }
    got = {(k, tuple(a), tuple(b)) for k, a, b in info["mismatched_keys"]}
    assert got == expected
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    w = model.get_parameter("bert.encoder.layer.0.intermediate.dense.weight").data
    assert w.shape == (40, 32) and w.dtype == np.float32 and np.isfinite(w).all()
    std = float(w.std())
    assert 0.01 < std < 0.03, f"re-initialised weight std {std:.4f}, expected ~initializer_range 0.02"
    b = model.get_parameter("bert.encoder.layer.0.intermediate.dense.bias").data
    assert b.shape == (40,) and not np.any(b), "re-initialised bias should be zero"
    # Tensors that do fit are loaded from the checkpoint.
    for key in ("bert.encoder.layer.0.attention.self.query.weight", "classifier.weight"):
        diff = float(np.abs(model.get_parameter(key).data - ckpt[key]).max())
        assert diff == 0.0, f"{key}: max |Δ| {diff:.2e} from the checkpoint"
    logits = model(np.array([[1, 2, 3, 4]])).logits
    assert logits.shape == (1, 2) and np.isfinite(logits).all()


def test_ignore_mismatched_sizes_keeps_fitting_tensors_of_the_same_module(bert_folder):
    """``output.dense.bias`` (32,) fits although ``output.dense.weight`` (32, 37) does not: it must be
    loaded from the checkpoint, as transformers does, not reset along with its module."""
    import transformers

    ckpt = load_file(bert_folder / "model.safetensors")
    key = "bert.encoder.layer.0.output.dense.bias"
    model = nanohf.BertForSequenceClassification.from_pretrained(
        bert_folder, intermediate_size=40, ignore_mismatched_sizes=True
    )
    reference = transformers.BertForSequenceClassification.from_pretrained(
        bert_folder, intermediate_size=40, ignore_mismatched_sizes=True
    )
    ref_diff = float(np.abs(reference.state_dict()[key].numpy() - ckpt[key]).max())
    assert ref_diff == 0.0, f"transformers: max |Δ| {ref_diff:.2e}"
    diff = float(np.abs(model.get_parameter(key).data - ckpt[key]).max())
    assert diff == 0.0, f"{key} was re-initialised although it fits: max |Δ| {diff:.2e} from the checkpoint"


# --- folders without usable weights ------------------------------------------------------------------


def test_folder_without_weights(bert_folder):
    (bert_folder / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=rf"{re.escape(str(bert_folder))} has no model\.safetensors"):
        nanohf.BertForSequenceClassification.from_pretrained(bert_folder)


def test_folder_without_anything(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"{re.escape(str(tmp_path))} has no config\.json"):
        nanohf.AutoModel.from_pretrained(tmp_path)


def test_folder_with_only_pytorch_model_bin(bert_folder):
    import torch

    (bert_folder / "model.safetensors").unlink()
    torch.save({"bert.embeddings.word_embeddings.weight": torch.zeros(99, 32)}, bert_folder / "pytorch_model.bin")
    with pytest.raises(OSError, match=r"has only pytorch_model\.bin.*never unpickles.*save_pretrained"):
        nanohf.BertForSequenceClassification.from_pretrained(bert_folder)


def test_pytorch_model_bin_is_never_unpickled(bert_folder):
    """Garbage named pytorch_model.bin: the error is the conversion advice, not an unpickling error."""
    (bert_folder / "model.safetensors").unlink()
    (bert_folder / "pytorch_model.bin").write_bytes(b"\x80\x04 this is not a pickle \x00\xff" * 10)
    with pytest.raises(OSError, match=r"pytorch_model\.bin, a pickle.*Convert it once with transformers") as err:
        nanohf.AutoModelForSequenceClassification.from_pretrained(bert_folder)
    assert "unpickl" not in type(err.value).__name__.lower()
    assert err.value.__cause__ is None and err.value.__context__ is None


def test_pytorch_model_bin_beside_safetensors_is_ignored(bert_folder):
    (bert_folder / "pytorch_model.bin").write_bytes(b"garbage that would crash any unpickler")
    model, info = nanohf.BertForSequenceClassification.from_pretrained(bert_folder, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    assert model(np.array([[5, 6, 7]])).logits.shape == (1, 2)


@pytest.fixture
def sharded_folder(make_checkpoint, tmp_path) -> Path:
    """The tiny checkpoint re-saved by transformers as several shards plus model.safetensors.index.json."""
    import transformers

    src = make_checkpoint("BertForSequenceClassification", TINY_BERT)
    folder = tmp_path / "sharded"
    transformers.BertForSequenceClassification.from_pretrained(src).save_pretrained(folder, max_shard_size="20KB")
    assert len(list(folder.glob("model-*.safetensors"))) > 1
    return folder


@pytest.mark.parametrize("content", ["{ not json", '{"metadata": {}}'], ids=["not-json", "no-weight_map"])
def test_broken_shard_index(sharded_folder, content):
    index = sharded_folder / "model.safetensors.index.json"
    index.write_text(content)
    with pytest.raises(ValueError, match=re.escape(str(index))):
        nanohf.BertForSequenceClassification.from_pretrained(sharded_folder)


@pytest.mark.parametrize("shard", ["../outside.safetensors", "/etc/passwd", "sub/model.safetensors", ".."])
def test_shard_index_path_outside_the_folder_refused(sharded_folder, shard):
    index = sharded_folder / "model.safetensors.index.json"
    content = json.loads(index.read_text())
    first = next(iter(content["weight_map"]))
    index.write_text(json.dumps({**content, "weight_map": {**content["weight_map"], first: shard}}))
    with pytest.raises(ValueError, match=rf"shard {re.escape(repr(shard))} is not a file name in"):
        nanohf.BertForSequenceClassification.from_pretrained(sharded_folder)


def test_shard_index_names_a_missing_shard(sharded_folder):
    shard = sorted(sharded_folder.glob("model-*.safetensors"))[1]
    shard.unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(shard.name)):
        nanohf.BertForSequenceClassification.from_pretrained(sharded_folder)


# --- malformed model inputs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bert(make_checkpoint):
    return nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )


@pytest.fixture(scope="module")
def distilbert(make_checkpoint):
    return nanohf.DistilBertModel.from_pretrained(make_checkpoint("DistilBertModel", TINY_DISTILBERT))


def test_input_id_past_vocab(bert, distilbert):
    ids = np.array([[1, 2, 3], [4, 99, 6]])
    for model in (bert, distilbert):
        with pytest.raises(
            ValueError, match=r"input_ids holds id 99 at position \(1, 1\), outside \[0, vocab_size=99\)"
        ):
            model(ids)
    with pytest.raises(ValueError, match=r"input_ids holds id 123456 "):
        bert(np.array([[1, 123456]]))


def test_negative_input_id(bert, distilbert):
    for model in (bert, distilbert):
        with pytest.raises(
            ValueError, match=r"input_ids holds id -1 at position \(0, 2\), outside \[0, vocab_size=99\)"
        ):
            model(np.array([[1, 2, -1]]))


@pytest.mark.parametrize(
    "ids", [np.array([[1.0, 2.0, 3.0]]), np.array([[1.5, 2.0]], dtype=np.float32), np.array([[True, False]])]
)
def test_non_integer_input_ids(bert, ids):
    with pytest.raises(ValueError, match=rf"input_ids must be an integer array .*got {ids.dtype}"):
        bert(ids)


@pytest.mark.parametrize("ids", [np.array([1, 2, 3]), np.array([[[1, 2, 3]]]), np.array(5)], ids=["1d", "3d", "0d"])
def test_input_ids_of_wrong_rank(bert, distilbert, ids):
    for model in (bert, distilbert):
        with pytest.raises(ValueError, match=rf"shape \(batch, seq\); got int64 {re.escape(str(ids.shape))}"):
            model(ids)


def test_sequence_longer_than_max_positions(bert, distilbert):
    ids = np.ones((2, 65), dtype=np.int64)
    for model in (bert, distilbert):
        with pytest.raises(ValueError, match=r"sequence length 65 exceeds max_position_embeddings=64; truncate"):
            model(ids)
    assert bert(np.ones((1, 64), dtype=np.int64)).logits.shape == (1, 2)  # the limit itself is fine


@pytest.mark.parametrize("shape", [(2, 4), (1, 5), (5,), (1, 2, 5)])
def test_attention_mask_of_wrong_shape(bert, distilbert, shape):
    ids = np.ones((2, 5), dtype=np.int64)
    for model in (bert, distilbert):
        with pytest.raises(ValueError, match=rf"attention_mask has shape {re.escape(str(shape))}, expected \(2, 5\)"):
            model(ids, attention_mask=np.ones(shape, dtype=np.int64))


def test_token_type_ids_out_of_range(bert):
    ids = np.ones((2, 4), dtype=np.int64)
    tt = np.zeros_like(ids)
    tt[1, 3] = 3  # TINY_BERT has type_vocab_size=3
    with pytest.raises(
        ValueError, match=r"token_type_ids holds id 3 at position \(1, 3\), outside \[0, type_vocab_size=3\)"
    ):
        bert(ids, token_type_ids=tt)
    tt[1, 3] = -2
    with pytest.raises(ValueError, match=r"token_type_ids holds id -2 at position \(1, 3\)"):
        bert(ids, token_type_ids=tt)
    tt[1, 3] = 2  # the largest valid id
    assert bert(ids, token_type_ids=tt).logits.shape == (2, 2)


@pytest.mark.parametrize("shape", [(2, 3), (1, 4), (4,), (2, 4, 1)])
def test_token_type_ids_of_wrong_shape(bert, shape):
    ids = np.ones((2, 4), dtype=np.int64)
    with pytest.raises(ValueError, match=rf"token_type_ids has shape {re.escape(str(shape))}, expected \(2, 4\)"):
        bert(ids, token_type_ids=np.zeros(shape, dtype=np.int64))


# --- names that cannot be found, configs that cannot be read ---------------------------------------


def test_unknown_hub_name_offline(tmp_path, monkeypatch):
    cache = tmp_path / "hub-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.chdir(tmp_path)  # so the name cannot accidentally be a folder of the cwd
    where = re.escape(str(cache / "models--no-such-org--no-such-model" / "snapshots"))
    for load in (nanohf.AutoModel.from_pretrained, nanohf.AutoConfig.from_pretrained, nanohf.BertModel.from_pretrained):
        with pytest.raises(FileNotFoundError, match=rf"'no-such-org/no-such-model' is neither a folder.*{where}"):
            load("no-such-org/no-such-model")


def test_config_json_not_json(bert_folder):
    (bert_folder / "config.json").write_text('{"model_type": "bert", "hidden_size": 32,')
    path = re.escape(str(bert_folder / "config.json"))
    for load in (nanohf.AutoModel.from_pretrained, nanohf.BertModel.from_pretrained, nanohf.AutoConfig.from_pretrained):
        with pytest.raises(ValueError, match=rf"{path} is not valid JSON"):
            load(bert_folder)


def test_config_json_not_an_object(bert_folder):
    (bert_folder / "config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match=rf"{re.escape(str(bert_folder / 'config.json'))} must hold a JSON object"):
        nanohf.BertModel.from_pretrained(bert_folder)


@pytest.mark.parametrize("model_type", ["t5", None])
def test_unknown_model_type(bert_folder, model_type):
    edit_config(bert_folder, model_type=model_type)
    for load in (nanohf.AutoModel.from_pretrained, nanohf.AutoConfig.from_pretrained):
        with pytest.raises(
            ValueError, match=rf"config\.json: model_type {re.escape(repr(model_type))} is not supported"
        ):
            load(bert_folder)


def test_model_type_of_another_class(bert_folder):
    with pytest.raises(ValueError, match=r"model_type 'bert', but DistilBertConfig is for 'distilbert'"):
        nanohf.DistilBertModel.from_pretrained(bert_folder)


def test_hub_cache_ref_pointing_outside_is_refused(make_checkpoint, tmp_path, monkeypatch):
    """A refs/main holding a path is data, not a pointer to follow: ../ out of the cache is refused."""
    outside = shutil.copytree(make_checkpoint("BertModel", TINY_BERT), tmp_path / "outside")
    repo = tmp_path / "cache" / "models--org--tiny"
    (repo / "snapshots" / "abc").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(f"../../../{outside.name}\n")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"refs/main holds '\.\./\.\./\.\./outside', which is not a snapshot name"):
        nanohf.AutoModel.from_pretrained("org/tiny")
