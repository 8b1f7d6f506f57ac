"""Chapter 7's seq2seq sections against transformers 5: DataCollatorForSeq2Seq (same arrays), Trainer and
Seq2SeqTrainer training losses on a tiny random BART (same data order, dropout 0), predict_with_generate
(the same generated ids, padded the same way), Seq2SeqTrainingArguments, bad input, and the example."""

import os
import re
import subprocess
import sys
import warnings
from dataclasses import fields
from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
import transformers

import nanohf
from nanohf.generation import GenerationConfig

ROOT = Path(__file__).resolve().parents[1]
LOSS_TOL = 1e-4
N_ROWS = 24


def mrpc_pairs(n: int) -> list[tuple[str, str]]:
    """The first n paraphrase pairs (Quality 1) of the shipped MRPC train split."""
    lines = (ROOT / "data" / "glue_mrpc" / "train.tsv").read_text(encoding="utf-8-sig").splitlines()[1:]
    cells = [line.split("\t") for line in lines]
    return [(c[3], c[4]) for c in cells if c[0] == "1"][:n]


@pytest.fixture(scope="module")
def quiet():
    transformers.logging.set_verbosity_error()
    datasets.disable_progress_bars()


@pytest.fixture(scope="module")
def tok_dir(roberta_tokenizer_files, tmp_path_factory, quiet):
    """A 400-token byte-level BPE (BART's tokenizer family) trained by transformers on MRPC sentences."""
    base = transformers.AutoTokenizer.from_pretrained(roberta_tokenizer_files)
    texts = [s for pair in mrpc_pairs(200) for s in pair]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tokenizer = base.train_new_from_iterator([texts[i : i + 100] for i in range(0, len(texts), 100)], 400)
    folder = tmp_path_factory.mktemp("seq2seq_tokenizer")
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tokenizers(tok_dir):
    ours, theirs = nanohf.AutoTokenizer.from_pretrained(tok_dir), transformers.AutoTokenizer.from_pretrained(tok_dir)
    assert (ours.pad_token_id, ours.bos_token_id, ours.eos_token_id) == (1, 0, 2)  # BART's defaults: no alignment
    return ours, theirs


@pytest.fixture(scope="module")
def bart_dir(tmp_path_factory):
    config = transformers.BartConfig(
        vocab_size=400, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=40,
        dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
    )  # fmt: skip
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("seq2seq_bart")
    transformers.BartForConditionalGeneration(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def encoded(tokenizers):
    """The course's preprocessing, tokenizer(inputs, text_target=targets, truncation=True), in both libraries."""
    ours, theirs = tokenizers
    pairs = mrpc_pairs(N_ROWS)
    sources, targets = [p[0] for p in pairs], [p[1] for p in pairs]
    enc = ours(sources, text_target=targets, truncation=True, max_length=24)
    ref = theirs(sources, text_target=targets, truncation=True, max_length=24)
    assert {k: list(v) for k, v in enc.items()} == {k: list(v) for k, v in ref.items()}
    return {k: [list(row) for row in v] for k, v in enc.items()}


def features(encoded, rows=range(8)) -> list[dict]:
    return [{k: v[i] for k, v in encoded.items()} for i in rows]


# --- DataCollatorForSeq2Seq --------------------------------------------------------------------------------


OPTIONS = [{}, {"pad_to_multiple_of": 8}, {"padding": "max_length", "max_length": 32}, {"label_pad_token_id": -1}]


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("options", OPTIONS, ids=["longest", "multiple8", "max_length", "pad-1"])
@pytest.mark.parametrize("with_model", [True, False])
def test_collator_matches_transformers(tokenizers, bart_dir, encoded, side, options, with_model):
    ours, theirs = tokenizers
    ours.padding_side = theirs.padding_side = side
    try:
        model = nanohf.BartForConditionalGeneration.from_pretrained(bart_dir) if with_model else None
        ref_model = transformers.BartForConditionalGeneration.from_pretrained(bart_dir) if with_model else None
        batch = nanohf.DataCollatorForSeq2Seq(ours, model=model, **options)(features(encoded))
        # transformers' collator needs torch tensors to shift the labels through its torch model
        ref = transformers.DataCollatorForSeq2Seq(theirs, model=ref_model, return_tensors="pt", **options)(
            features(encoded)
        )
    finally:
        ours.padding_side = theirs.padding_side = "right"
    assert sorted(batch) == sorted(ref)
    assert ("decoder_input_ids" in batch) == with_model
    for key in ref:
        expected = ref[key].numpy()
        assert batch[key].dtype == expected.dtype and np.array_equal(batch[key], expected), key


def test_collator_without_labels_and_with_label_key(tokenizers, encoded):
    ours, theirs = tokenizers
    rows = [{k: v for k, v in row.items() if k != "labels"} for row in features(encoded)]
    batch = nanohf.DataCollatorForSeq2Seq(ours)(rows)
    ref = transformers.DataCollatorForSeq2Seq(theirs, return_tensors="np")(rows)
    assert batch["labels"] is None and ref["labels"] is None
    np.testing.assert_array_equal(batch["input_ids"], ref["input_ids"])
    renamed = [{("label" if k == "labels" else k): v for k, v in row.items()} for row in features(encoded)]
    batch = nanohf.DataCollatorForSeq2Seq(ours)(renamed)
    ref = transformers.DataCollatorForSeq2Seq(theirs, return_tensors="np")(renamed)
    assert "label" not in batch and np.array_equal(batch["labels"], ref["labels"])


# --- Trainer / Seq2SeqTrainer: the same training losses ---------------------------------------------------------

COMMON = dict(per_device_train_batch_size=4, max_steps=5, learning_rate=3e-3, logging_steps=1, save_strategy="no",
              report_to="none", train_sampling_strategy="sequential", disable_tqdm=True, seed=0)  # fmt: skip


def make_trainers(kind, tokenizers, bart_dir, encoded, tmp_path, **extra):
    ours_tok, theirs_tok = tokenizers
    data = {k: v for k, v in encoded.items()}
    made = []
    for lib, dataset, tok, args_kw in ((nanohf, nanohf.Dataset.from_dict(data), ours_tok, {}),
                                       (transformers, datasets.Dataset.from_dict(data), theirs_tok,
                                        {"use_cpu": True})):  # fmt: skip
        model = lib.BartForConditionalGeneration.from_pretrained(bart_dir)
        trainer_cls = getattr(lib, "Seq2SeqTrainer" if kind == "seq2seq" else "Trainer")
        args_cls = getattr(lib, "Seq2SeqTrainingArguments" if kind == "seq2seq" else "TrainingArguments")
        args = args_cls(output_dir=str(tmp_path / lib.__name__), **COMMON, **args_kw, **extra)
        collator = lib.DataCollatorForSeq2Seq(tok, model=model, **({} if lib is nanohf else {"return_tensors": "pt"}))
        made.append(trainer_cls(model=model, args=args, train_dataset=dataset, eval_dataset=dataset,
                                data_collator=collator, processing_class=tok))  # fmt: skip
    return made


@pytest.mark.parametrize("kind", ["trainer", "seq2seq"])
def test_training_losses_match_transformers(kind, tokenizers, bart_dir, encoded, tmp_path):
    ours, theirs = make_trainers(kind, tokenizers, bart_dir, encoded, tmp_path, per_device_eval_batch_size=6)
    ours.train()
    theirs.train()
    got = np.array([h["loss"] for h in ours.state.log_history if "loss" in h])
    want = np.array([h["loss"] for h in theirs.state.log_history if "loss" in h])
    assert len(got) == len(want) == 5
    diff = np.abs(got - want).max()
    assert diff <= LOSS_TOL, f"training losses |Δ| {diff:.2e}: {got} vs {want}"
    # 24 rows in batches of 6: every batch full, so both eval losses are the mean over the examples
    eval_diff = abs(ours.evaluate()["eval_loss"] - theirs.evaluate()["eval_loss"])
    assert eval_diff <= LOSS_TOL, f"eval_loss |Δ| {eval_diff:.2e}"


# --- predict_with_generate ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generating(tokenizers, bart_dir, encoded, tmp_path_factory, quiet):
    """Untrained twins (the same weights): the generated ids must be identical, not just close."""
    tmp = tmp_path_factory.mktemp("seq2seq_generate")
    # eval batches of 5 over 24 rows: a smaller last batch, and batches whose generations differ in length
    return make_trainers("seq2seq", tokenizers, bart_dir, encoded, tmp, per_device_eval_batch_size=5,
                         predict_with_generate=True)  # fmt: skip


@pytest.mark.parametrize("gen_kwargs", [{}, {"max_length": 12}, {"num_beams": 3, "max_length": 30},
                                        {"max_new_tokens": 5}], ids=["default", "max12", "beams3", "new5"])  # fmt: skip
def test_predict_with_generate_matches_transformers(generating, encoded, gen_kwargs):
    ours, theirs = generating
    n = 10 if "num_beams" in gen_kwargs else N_ROWS  # transformers' beam search takes seconds per batch
    data = {k: v[:n] for k, v in encoded.items()}
    got = ours.predict(nanohf.Dataset.from_dict(data), **gen_kwargs)
    want = theirs.predict(datasets.Dataset.from_dict(data), **gen_kwargs)
    assert got.predictions.shape == want.predictions.shape
    assert np.array_equal(got.predictions, want.predictions), "generated ids differ"
    assert np.array_equal(got.label_ids, want.label_ids), "labels differ"
    # Our test_loss is the mean over the examples. transformers' Seq2SeqTrainer gathers the losses with
    # accelerator.gather (not gather_for_metrics), so a smaller last batch counts as a full one there.
    starts = range(0, n, 5)
    per_batch = [float(ours.prediction_step(ours.model, ours.data_collator(features(encoded, range(i, min(i + 5, n)))),
                                            prediction_loss_only=True)[0]) for i in starts]  # fmt: skip
    sizes = [min(5, n - i) for i in starts]
    ours_diff = abs(got.metrics["test_loss"] - np.average(per_batch, weights=sizes))
    theirs_diff = abs(want.metrics["test_loss"] - np.mean(per_batch))
    assert ours_diff <= LOSS_TOL and theirs_diff <= LOSS_TOL, (got.metrics, want.metrics, per_batch)


def test_generation_arguments_and_compute_metrics(tokenizers, bart_dir, encoded, tmp_path, quiet):
    """generation_max_length / generation_num_beams are the defaults of evaluate(); compute_metrics sees the
    generated ids and -100-padded labels, as the course's compute_metrics expects."""
    ours_tok, _ = tokenizers
    seen = {}

    def compute_metrics(eval_preds):
        preds, labels = eval_preds
        seen["preds"], seen["labels"] = preds, labels
        labels = np.where(labels != -100, labels, ours_tok.pad_token_id)
        decoded = ours_tok.batch_decode(labels, skip_special_tokens=True)
        return {"n_decoded": len(decoded)}

    ours, theirs = make_trainers(
        "seq2seq",
        tokenizers,
        bart_dir,
        encoded,
        tmp_path,
        per_device_eval_batch_size=5,
        predict_with_generate=True,
        generation_max_length=9,
        generation_num_beams=2,
    )
    ours.compute_metrics = compute_metrics
    metrics = ours.evaluate()
    assert metrics["eval_n_decoded"] == N_ROWS
    ref = theirs.predict(datasets.Dataset.from_dict(dict(encoded)))
    assert np.array_equal(seen["preds"], ref.predictions) and seen["preds"].shape == (N_ROWS, 20)
    assert np.array_equal(seen["labels"], ref.label_ids)


def test_seq2seq_training_arguments_match_transformers(tmp_path):
    ours = {f.name: f.default for f in fields(nanohf.Seq2SeqTrainingArguments)}
    theirs = {f.name: f.default for f in fields(transformers.Seq2SeqTrainingArguments)}
    extra = ["sortish_sampler", "predict_with_generate", "generation_max_length", "generation_num_beams",
             "generation_config"]  # fmt: skip
    assert list(ours)[-5:] == list(theirs)[-5:] == extra
    assert {k: ours[k] for k in extra} == {k: theirs[k] for k in extra}
    args = nanohf.Seq2SeqTrainingArguments(str(tmp_path), generation_config=GenerationConfig(num_beams=3))
    assert args.to_dict()["generation_config"]["num_beams"] == 3
    assert isinstance(args.to_json_string(), str)
    with pytest.raises(ValueError, match="generation_num_beams"):
        nanohf.Seq2SeqTrainingArguments(str(tmp_path), generation_num_beams=0)


def test_generation_config_argument(bart_dir, tmp_path):
    model = nanohf.BartForConditionalGeneration.from_pretrained(bart_dir)
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "generation_config.json").write_text('{"num_beams": 4, "max_length": 11, "foo": 1}')
    args = nanohf.Seq2SeqTrainingArguments(str(tmp_path / "out"), generation_config=str(tmp_path / "gen"))
    trainer = nanohf.Seq2SeqTrainer(model=model, args=args)
    assert (model.generation_config.num_beams, model.generation_config.max_length) == (4, 11)
    assert trainer.load_generation_config(GenerationConfig(num_beams=2)).num_beams == 2
    with pytest.raises(ValueError, match="Fix these issues"):
        nanohf.Seq2SeqTrainer.load_generation_config(GenerationConfig(num_beams=0))
    with pytest.raises(OSError, match="never downloads"):
        nanohf.Seq2SeqTrainer.load_generation_config(str(tmp_path / "missing"))
    with pytest.warns(UserWarning, match="sortish_sampler"):
        nanohf.Seq2SeqTrainer(model=model, args=nanohf.Seq2SeqTrainingArguments(str(tmp_path), sortish_sampler=True))


# --- bad input ------------------------------------------------------------------------------------------------


def test_targets_longer_than_the_model_allows(tokenizers, bart_dir, encoded, tmp_path):
    ours_tok, _ = tokenizers
    model = nanohf.BartForConditionalGeneration.from_pretrained(bart_dir)  # max_position_embeddings=40
    rows = features(encoded, range(6))
    rows[3] = {**rows[3], "labels": rows[3]["labels"] * 3}
    assert len(rows[3]["labels"]) > 40
    with pytest.raises(ValueError, match=r"DataCollatorForSeq2Seq: example 3: labels has \d+ tokens, more than"):
        nanohf.DataCollatorForSeq2Seq(ours_tok, model=model)(rows)
    data = {k: [row[k] for row in rows] for k in rows[0]}
    args = nanohf.Seq2SeqTrainingArguments(str(tmp_path), max_steps=1, report_to="none", disable_tqdm=True)
    trainer = nanohf.Seq2SeqTrainer(model=model, args=args, train_dataset=nanohf.Dataset.from_dict(data),
                                    data_collator=nanohf.DataCollatorForSeq2Seq(ours_tok, model=model))  # fmt: skip
    with pytest.raises(ValueError, match=r"train_dataset row 3: labels has \d+ tokens.*max_position_embeddings=40"):
        trainer.train()
    with pytest.raises(ValueError, match="evaluation data set row 3"):
        trainer.predict(nanohf.Dataset.from_dict(data))
    with pytest.raises(ValueError, match="example 1 has 3 labels, more than max_length=2"):
        nanohf.DataCollatorForSeq2Seq(ours_tok, padding="max_length", max_length=2)(
            [{"input_ids": [0, 2], "labels": [0, 2]}, {"input_ids": [0, 2], "labels": [0, 7, 2]}]
        )
    with pytest.raises(ValueError, match="example 0 has labels 'a text'"):
        nanohf.DataCollatorForSeq2Seq(ours_tok)([{"input_ids": [0, 2], "labels": "a text"}])


# --- the example ----------------------------------------------------------------------------------------------


def test_example_runs_on_a_slice(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "seq2seq_bart_mrpc.py"), "--tiny", "--with-copies", "--output-dir",
         str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
    )  # fmt: skip
    assert result.returncode == 0, f"the example failed:\n{result.stdout}\n{result.stderr[-3000:]}"
    out = result.stdout
    # 64 pairs both ways round, plus each of their distinct sentences copied
    assert 128 < int(re.search(r"training examples: ([\d,]+)", out).group(1).replace(",", "")) <= 256, out
    assert re.search(r"corpus BLEU [\d.]+", out) and re.search(r"ROUGE-1 [\d.]+ ROUGE-2 [\d.]+ ROUGE-L [\d.]+", out)
    losses = [float(x) for x in re.findall(r"loss=([\d.]+)", result.stderr)]  # the progress bar's
    assert len(losses) >= 2 and losses[-1] < losses[0], out
    assert out.count("  prediction: ") >= 3
    assert re.search(r"stage 1: 10 steps copying random token strings, training loss [\d.]+ ", out), out
    assert (tmp_path / "model" / "model.safetensors").is_file()


def test_random_copies_are_their_own_targets_without_special_tokens():
    sys.path.insert(0, str(ROOT / "examples"))
    from seq2seq_bart_mrpc import random_copies

    lengths = [5, 9, 12, 3] * 50
    copies = random_copies(lengths, first_id=5, end_id=40, bos=0, eos=2, seed=3)
    assert len(copies) == 200 and copies.column_names == ["input_ids", "attention_mask", "labels"]
    for row, length in zip(copies, lengths, strict=True):
        ids = row["input_ids"]
        assert row["labels"] == ids and row["attention_mask"] == [1] * len(ids)
        assert ids[0] == 0 and ids[-1] == 2 and len(ids) == length, ids  # in the order given
        assert all(5 <= i < 40 for i in ids[1:-1]), ids  # no special token inside
    first, again = (random_copies([7, 7], 5, 40, 0, 2, seed=3)["input_ids"] for _ in range(2))
    assert first == again  # seeded
