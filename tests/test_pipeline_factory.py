"""``pipeline()`` itself against transformers 5's: its signature, device/dtype/model_kwargs/batch_size, the
errors it raises, and ``pipeline(task)`` with no model (the task's default checkpoint from a local cache)."""

import inspect
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers
from conftest import TINY_DISTILBERT
from test_pipeline_structure import compare

import nanohf
import nanohf.pipelines
from nanohf.pipelines.defaults import DEFAULT_MODELS, cached_snapshot

TEXTS = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!", "meh"]
SST2_ID, SST2_REVISION = "distilbert/distilbert-base-uncased-finetuned-sst-2-english", "714eb0f"
COMMIT = "714eb0fa89d2f80546fda750413ed43d93601a13"  # a full-length commit name starting with the pinned one

# Parameters of transformers.pipeline that nanohf.pipeline spells differently: none. (Only the annotations
# differ, torch.device / PreTrainedModel there; they are not compared.)
SIGNATURE_DIFFERENCES: dict[str, str] = {}


@pytest.fixture(scope="module")
def sst2_checkpoint(make_checkpoint, minilm_dir, tmp_path_factory) -> Path:
    """A tiny DistilBERT sentiment classifier (MiniLM's vocabulary) standing in for the task's default model."""
    labels = {0: "NEGATIVE", 1: "POSITIVE"}
    config = {**TINY_DISTILBERT, "vocab_size": 30522, "id2label": labels, "label2id": {v: k for k, v in labels.items()},
              "initializer_range": 0.5}  # fmt: skip
    folder = tmp_path_factory.mktemp("sst2")
    shutil.copytree(make_checkpoint("DistilBertForSequenceClassification", config), folder, dirs_exist_ok=True)
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, folder)
    return folder


def fake_cache(root: Path, checkpoint: Path, model_id: str = SST2_ID, commit: str = COMMIT, refs=("main",)) -> Path:
    """``root`` laid out as huggingface_hub's cache holding ``checkpoint`` as ``model_id`` at ``commit``.

    huggingface_hub writes ``refs/<revision>`` for every revision it resolved by name: transformers asks for
    the pinned short revision, so a cache it filled has ``refs/714eb0f`` beside ``refs/main``."""
    repo = root / ("models--" + model_id.replace("/", "--"))
    shutil.copytree(checkpoint, repo / "snapshots" / commit)
    (repo / "refs").mkdir(exist_ok=True)
    for ref in refs:
        (repo / "refs" / ref).write_text(commit)
    return repo


@pytest.fixture(scope="module")
def transformers_default(sst2_checkpoint, tmp_path_factory):
    """transformers.pipeline("sentiment-analysis") with no model, reading a fake cache (offline)."""
    root = tmp_path_factory.mktemp("hub_for_transformers")
    fake_cache(root, sst2_checkpoint, refs=("main", SST2_REVISION))
    return transformers.pipeline("sentiment-analysis", model_kwargs={"cache_dir": str(root)}, local_files_only=True)


# --------------------------------------------------------------------------------------------- the signature
def comparable(signature: inspect.Signature) -> list[tuple]:
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


def test_signature_equals_transformers():
    theirs = comparable(inspect.signature(transformers.pipeline))
    ours = comparable(inspect.signature(nanohf.pipeline))
    differing = sorted({p[0] for p in set(theirs) ^ set(ours)})
    assert differing == sorted(SIGNATURE_DIFFERENCES), f"unexplained differences: {differing}"
    assert [p[0] for p in ours] == [p[0] for p in theirs], "parameter order differs"
    call = [comparable(inspect.signature(cls.__call__)) for cls in (transformers.Pipeline, nanohf.pipelines.Pipeline)]
    assert call[0] == call[1]


# ------------------------------------------------------------------------------- device, dtype, model_kwargs
@pytest.mark.parametrize("device", [None, -1, "cpu", torch.device("cpu"), 0])
def test_cpu_devices_accepted(sst2_checkpoint, device, caplog):
    want = transformers.pipeline("sentiment-analysis", model=str(sst2_checkpoint), device=device)
    with caplog.at_level(logging.WARNING, logger="nanohf.pipelines.options"):
        ours = nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), device=device)
    assert want.device == torch.device("cpu") and ours.device == "cpu"
    # An ordinal means "the first accelerator" there; without one both use the CPU (nanohf says so).
    assert ("runs on the CPU" in caplog.text) == (device == 0)
    compare(ours(TEXTS), want(TEXTS))


@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda"), "mps"])
def test_accelerator_devices_refused(sst2_checkpoint, device):
    with pytest.raises((AssertionError, RuntimeError)):  # transformers: torch was built without it
        transformers.pipeline("sentiment-analysis", model=str(sst2_checkpoint), device=device)
    with pytest.raises(ValueError, match="CPU only"):
        nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), device=device)


@pytest.mark.parametrize("device_map", ["auto", "cpu", {"": "cpu"}])
def test_cpu_device_maps_accepted(sst2_checkpoint, device_map):
    want = transformers.pipeline("sentiment-analysis", model=str(sst2_checkpoint), device_map=device_map)
    compare(nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), device_map=device_map)(TEXTS),
            want(TEXTS))  # fmt: skip


@pytest.mark.parametrize("device_map", ["cuda", {"": 0}, "disk"])
def test_accelerator_device_maps_refused(sst2_checkpoint, device_map):
    if device_map != "disk":
        with pytest.raises((AssertionError, ValueError, RuntimeError)):
            transformers.pipeline("sentiment-analysis", model=str(sst2_checkpoint), device_map=device_map)
    with pytest.raises(ValueError, match="device_map"):
        nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), device_map=device_map)


def test_device_map_given_twice(sst2_checkpoint):
    for library in (transformers, nanohf):
        with pytest.raises(ValueError, match="You cannot use both"):
            library.pipeline("sentiment-analysis", model=str(sst2_checkpoint), device_map="cpu",
                             model_kwargs={"device_map": "cpu"})  # fmt: skip


@pytest.mark.parametrize("dtype", ["auto", None, "float32", np.float32, torch.float32])
def test_float32_accepted(sst2_checkpoint, dtype):
    want = transformers.pipeline("sentiment-analysis", model=str(sst2_checkpoint), dtype=dtype)
    ours = nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), dtype=dtype)
    assert ours.dtype == np.float32 and want.dtype == torch.float32
    compare(ours(TEXTS), want(TEXTS))


@pytest.mark.parametrize("dtype", ["float16", torch.float16, torch.bfloat16, "bfloat16", "float64", "int8"])
def test_other_precisions_refused(sst2_checkpoint, dtype):
    with pytest.raises(ValueError, match="float32"):
        nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), dtype=dtype)


def test_torch_dtype_is_deprecated_as_in_transformers(sst2_checkpoint, caplog):
    with caplog.at_level(logging.WARNING):
        ours = nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), torch_dtype=torch.float32)
    assert "`torch_dtype` is deprecated! Use `dtype` instead!" in caplog.text
    want = transformers.pipeline("sentiment-analysis", model=str(sst2_checkpoint), torch_dtype=torch.float32)
    compare(ours(TEXTS[0]), want(TEXTS[0]))
    with pytest.raises(ValueError, match="float32"):
        nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), model_kwargs={"torch_dtype": "float16"})
    for library in (transformers, nanohf):
        with pytest.raises(ValueError, match="You cannot use both"):
            library.pipeline("sentiment-analysis", model=str(sst2_checkpoint), dtype="float32",
                             model_kwargs={"dtype": "float32"})  # fmt: skip


def test_model_kwargs_reach_from_pretrained(sst2_checkpoint):
    # A config override in model_kwargs: the labels are renamed in both libraries.
    kwargs = {"model_kwargs": {"id2label": {0: "bad", 1: "good"}, "label2id": {"bad": 0, "good": 1}}}
    want = transformers.pipeline("sentiment-analysis", model=str(sst2_checkpoint), **kwargs)
    got = nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), **kwargs)
    compare(got(TEXTS, top_k=None), want(TEXTS, top_k=None))
    assert {d["label"] for d in got(TEXTS)} <= {"bad", "good"}


@pytest.mark.parametrize("where", ["init", "call"])
def test_batch_size_and_num_workers(sst2_checkpoint, where):
    want = transformers.pipeline("sentiment-analysis", model=str(sst2_checkpoint))(TEXTS)
    if where == "init":
        ours = nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), batch_size=2, num_workers=2)
        got = ours(TEXTS)
    else:
        got = nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint))(TEXTS, batch_size=3, num_workers=0)
    compare(got, want)


def test_hub_arguments_accepted_for_a_folder(sst2_checkpoint, tmp_path):
    kwargs = {"revision": "main", "use_fast": False, "token": False, "trust_remote_code": False,
              "local_files_only": True, "code_revision": None}  # fmt: skip
    ours = nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), **kwargs)
    want = transformers.pipeline("sentiment-analysis", model=str(sst2_checkpoint), **kwargs)
    compare(ours(TEXTS), want(TEXTS))
    # config= (a folder or a loaded config) and tokenizer= as transformers' (folder, kwargs) pair
    config = nanohf.AutoConfig.from_pretrained(sst2_checkpoint)
    for given in (str(sst2_checkpoint), config):
        built = nanohf.pipeline("sentiment-analysis", model=str(sst2_checkpoint), config=given,
                                tokenizer=(str(sst2_checkpoint), {"use_fast": True}))  # fmt: skip
        compare(built(TEXTS), want(TEXTS))
    assert (ours.task, ours.device, repr(ours).startswith("TextClassificationPipeline")) == (
        "text-classification", "cpu", True)  # fmt: skip
    assert ours.predict(TEXTS) == ours.transform(TEXTS) == ours(TEXTS)
    ours.save_pretrained(tmp_path / "saved")
    compare(nanohf.pipeline("sentiment-analysis", model=str(tmp_path / "saved"))(TEXTS), want(TEXTS))


def test_pipeline_class(sst2_checkpoint):
    from nanohf.pipelines.text_classification import TextClassificationPipeline

    class Shouting(TextClassificationPipeline):
        def postprocess(self, features_and_outputs, **params):
            result = super().postprocess(features_and_outputs, **params)
            return {**result, "label": result["label"].upper() + "!"}

    got = nanohf.pipeline("text-classification", model=str(sst2_checkpoint), pipeline_class=Shouting)(TEXTS[:1])
    assert isinstance(got[0]["label"], str) and got[0]["label"].endswith("!")


# ---------------------------------------------------------------------------------------------------- errors
def test_errors_as_transformers(sst2_checkpoint):
    folder = str(sst2_checkpoint)
    for library in (transformers, nanohf):
        with pytest.raises(RuntimeError, match="without either a task or a model"):
            library.pipeline()
        with pytest.raises(RuntimeError, match="tokenizer specified but not the model"):
            library.pipeline("sentiment-analysis", tokenizer=folder)
        with pytest.raises(KeyError, match="Unknown task"):
            library.pipeline("no-such-task", model=folder)
    # No task: transformers asks the Hub for the model's pipeline_tag; nanohf never does.
    with pytest.raises(RuntimeError, match="needs a task"):
        nanohf.pipeline(model=folder)
    with pytest.raises(ValueError, match="image_processor"):
        nanohf.pipeline("sentiment-analysis", model=folder, image_processor=folder)


# --------------------------------------------------------------------------------- no model: the default one
def test_default_models_are_transformers_5s():
    from transformers.pipelines import SUPPORTED_TASKS

    for task, (model_id, revision) in DEFAULT_MODELS.items():
        if task in SUPPORTED_TASKS:  # the others were removed in 5; their ids are 4.x's
            assert SUPPORTED_TASKS[task]["default"]["model"] == (model_id, revision), task


@pytest.mark.parametrize("variable", ["HF_HUB_CACHE", "HF_HOME", "model_kwargs"])
def test_default_checkpoint_from_the_local_cache(sst2_checkpoint, transformers_default, tmp_path, monkeypatch,
                                                 variable, caplog):  # fmt: skip
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "unused-home"))
    hub = tmp_path / "hub"
    fake_cache(hub, sst2_checkpoint)  # refs/main only, as a cache filled by snapshot_download(model_id)
    kwargs = {}
    if variable == "HF_HUB_CACHE":
        monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    elif variable == "HF_HOME":
        monkeypatch.setenv("HF_HOME", str(tmp_path))
    else:
        kwargs = {"model_kwargs": {"cache_dir": str(hub)}}
    with caplog.at_level(logging.WARNING):
        ours = nanohf.pipeline("sentiment-analysis", **kwargs)
    assert f"No model was supplied, defaulted to {SST2_ID} and revision {SST2_REVISION}" in caplog.text
    for inputs in (TEXTS[0], TEXTS):
        compare(ours(inputs), transformers_default(inputs))


def test_missing_default_names_the_model_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    for task, (model_id, _) in DEFAULT_MODELS.items():
        expected = str(tmp_path / ("models--" + model_id.replace("/", "--")))
        with pytest.raises(FileNotFoundError, match=model_id) as error:
            nanohf.pipeline(task)
        assert expected in str(error.value) and "model=" in str(error.value)


def test_a_ref_pointing_outside_the_snapshots_is_not_followed(sst2_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    repo = fake_cache(tmp_path / "hub", sst2_checkpoint)
    shutil.copytree(sst2_checkpoint, tmp_path / "elsewhere")  # a loadable checkpoint the ref would reach
    for target in ("../../../elsewhere", str(tmp_path / "elsewhere"), "..", "a/../../b"):
        (repo / "refs" / "main").write_text(target)
        with pytest.raises(ValueError, match="refusing to follow it"):
            nanohf.pipeline("sentiment-analysis")
    (repo / "refs" / "main").write_text(COMMIT)
    assert nanohf.pipeline("sentiment-analysis")(TEXTS[0])[0]["label"] in ("NEGATIVE", "POSITIVE")


def test_revisions_and_model_ids_in_the_cache(sst2_checkpoint, make_checkpoint, minilm_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    repo = fake_cache(tmp_path, sst2_checkpoint, model_id="me/sst2")
    other = "b" * 40
    shutil.copytree(sst2_checkpoint, repo / "snapshots" / other)
    (repo / "snapshots" / other / "config.json").write_text(
        (sst2_checkpoint / "config.json").read_text().replace('"POSITIVE"', '"YES"'))  # fmt: skip
    (repo / "refs" / "v2").write_text(other)
    assert cached_snapshot("me/sst2") == repo / "snapshots" / COMMIT  # refs/main
    assert cached_snapshot("me/sst2", "v2") == cached_snapshot("me/sst2", "bbbbbbb") == repo / "snapshots" / other
    assert cached_snapshot("me/sst2", "cccc") is None and cached_snapshot("nobody/nothing") is None
    for revision, positive in ((None, "POSITIVE"), ("v2", "YES"), (other[:7], "YES")):
        labels = {d["label"] for d in nanohf.pipeline("sentiment-analysis", model="me/sst2", revision=revision)(
            TEXTS[0], top_k=None)}  # fmt: skip
        assert labels == {"NEGATIVE", positive}, revision
