"""RoBERTa against transformers: outputs, losses and gradients on random checkpoints, positions, pipelines.

Tolerances as for BERT: logits and hidden states ≤ 1e-4 (max |Δ| over real tokens), losses ≤ 1e-5,
gradients ≤ 1e-4 relative per parameter (tests/test_gradients.py's compare_gradients). Batches are padded with
<pad> = 1, on the right and on the left: RoBERTa's position ids depend on where the padding is.
"""

import shutil

import numpy as np
import pytest
import torch
import transformers
from conftest import torch_model
from test_gradients import GRAD_TOL, LOSS_TOL, compare_gradients
from test_pipeline_fill_mask import assert_same as assert_same_fill_mask

import nanohf
from nanohf.models.roberta import create_position_ids_from_input_ids

LOGITS_TOL = 1e-4
PAD = 1
TINY_ROBERTA = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                    max_position_embeddings=40, type_vocab_size=1, hidden_dropout_prob=0.0,
                    attention_probs_dropout_prob=0.0)
CLASSES = ["RobertaModel", "RobertaForSequenceClassification", "RobertaForMaskedLM", "RobertaForTokenClassification",
           "RobertaForQuestionAnswering"]
FIELDS = ("logits", "start_logits", "end_logits", "last_hidden_state", "pooler_output")


def padded_batch(lengths=(13, 9, 3, 13), left=(False, False, True, False), seed=0):
    """``input_ids`` <s> ... </s> padded with <pad> (on the left where asked), and the attention mask."""
    rng = np.random.default_rng(seed)
    seq = max(lengths)
    input_ids = np.full((len(lengths), seq), PAD, dtype=np.int64)
    for i, (n, on_left) in enumerate(zip(lengths, left, strict=True)):
        row = np.concatenate([[0], rng.integers(3, 99, n - 2), [2]])
        if on_left:
            input_ids[i, seq - n:] = row
        else:
            input_ids[i, :n] = row
    return input_ids, (input_ids != PAD).astype(np.int64)


def labels_for(class_name, input_ids, attention_mask):
    rng = np.random.default_rng(1)
    if "Sequence" in class_name:
        return {"labels": rng.integers(0, 2, len(input_ids))}
    if "Question" in class_name:
        return {"start_positions": np.array([1, 3, 0, 40])[: len(input_ids)],
                "end_positions": np.array([4, 3, 2, 1])[: len(input_ids)]}
    labels = rng.integers(0, 2 if "Token" in class_name else 99, input_ids.shape)
    labels[attention_mask == 0] = -100
    return {"labels": labels}


def run_both(make_checkpoint, class_name, config, **inputs):
    folder = make_checkpoint(class_name, config)
    ours = getattr(nanohf, class_name).from_pretrained(folder)(**inputs)
    with torch.no_grad():
        theirs = torch_model(class_name, folder)(
            **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in inputs.items()})
    return ours, theirs


def max_diff(ours, theirs, attention_mask):
    theirs = theirs.numpy()
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    diff = np.abs(ours - theirs)
    if diff.ndim >= 2 and diff.shape[:2] == attention_mask.shape:
        diff = diff[attention_mask.astype(bool)]
    return float(diff.max())


def test_position_ids_as_transformers():
    from transformers.models.roberta.modeling_roberta import RobertaEmbeddings

    input_ids, _ = padded_batch()
    expected = RobertaEmbeddings.create_position_ids_from_input_ids(torch.tensor(input_ids), PAD).numpy()
    np.testing.assert_array_equal(create_position_ids_from_input_ids(input_ids, PAD), expected)
    assert create_position_ids_from_input_ids(np.array([[0, 7, 2, 1, 1]]), 1).tolist() == [[2, 3, 4, 1, 1]]


@pytest.mark.parametrize("class_name", CLASSES)
def test_outputs_and_loss_match(make_checkpoint, class_name):
    input_ids, attention_mask = padded_batch()
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask)
    if class_name != "RobertaModel":
        inputs.update(labels_for(class_name, input_ids, attention_mask))
    ours, theirs = run_both(make_checkpoint, class_name, TINY_ROBERTA, **inputs)
    compared = [field for field in FIELDS if field in ours]
    for field in compared:
        diff = max_diff(ours[field], getattr(theirs, field), attention_mask)
        assert diff <= LOGITS_TOL, f"{class_name}.{field}: max |Δ| {diff:.2e}"
    if class_name != "RobertaModel":
        loss_diff = abs(float(ours.loss) - theirs.loss.item())
        assert loss_diff <= LOSS_TOL, f"{class_name} loss |Δ| {loss_diff:.2e}"
    assert compared


def test_hidden_states_attentions_and_explicit_ids(make_checkpoint):
    """Every layer's hidden states and attentions; token_type_ids and position_ids passed explicitly."""
    config = {**TINY_ROBERTA, "type_vocab_size": 2}
    input_ids, attention_mask = padded_batch((12, 7, 5), (False, True, False))
    token_type_ids = np.zeros_like(input_ids)
    token_type_ids[:, 4:] = 1
    position_ids = np.tile(np.arange(2, 2 + input_ids.shape[1]), (len(input_ids), 1))
    for extra in ({}, {"token_type_ids": token_type_ids}, {"position_ids": position_ids}):
        ours, theirs = run_both(make_checkpoint, "RobertaModel", config, input_ids=input_ids,
                                attention_mask=attention_mask, output_hidden_states=True, output_attentions=True,
                                **extra)  # fmt: skip
        for what in ("hidden_states", "attentions"):
            assert len(ours[what]) == len(theirs[what]) == (3 if what == "hidden_states" else 2)
            for layer, (a, b) in enumerate(zip(ours[what], theirs[what], strict=True)):
                diff = max_diff(a, b, attention_mask)
                assert diff <= LOGITS_TOL, f"{what}[{layer}] {sorted(extra)}: max |Δ| {diff:.2e}"


@pytest.mark.parametrize("class_name", CLASSES[1:])
def test_gradients_match_torch_autograd(make_checkpoint, class_name):
    input_ids, attention_mask = padded_batch((12, 9, 4, 12), (False, True, False, False))
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask, **labels_for(class_name, input_ids,
                                                                                   attention_mask))
    loss_diff, errors, ours, _ = compare_gradients(make_checkpoint, class_name, TINY_ROBERTA, inputs)
    assert loss_diff <= LOSS_TOL, f"{class_name} loss |Δ| {loss_diff:.2e}"
    worst = max(errors, key=errors.get)
    assert errors[worst] <= GRAD_TOL, f"{class_name}: worst relative gradient error {errors[worst]:.2e} at {worst}"
    assert len(errors) == len(list(ours.named_parameters()))
    embeddings = ours.roberta.embeddings
    # <pad> rows get no gradient from the lookups: in the position table (pad positions are padding_idx) and in
    # the word table -- unless the tied MLM decoder scores <pad> as a candidate token
    assert np.all(embeddings.position_embeddings.weight.grad[PAD] == 0)
    if class_name != "RobertaForMaskedLM":
        assert np.all(embeddings.word_embeddings.weight.grad[PAD] == 0)


def test_tied_lm_head(make_checkpoint):
    model = nanohf.RobertaForMaskedLM.from_pretrained(make_checkpoint("RobertaForMaskedLM", TINY_ROBERTA))
    assert model.lm_head.decoder.weight is model.roberta.embeddings.word_embeddings.weight
    assert model.lm_head.decoder.bias is model.lm_head.bias
    names = [name for name, _ in model.named_parameters()]
    assert "lm_head.bias" in names and "lm_head.decoder.weight" not in names and "lm_head.decoder.bias" not in names


def test_auto_classes_and_save_round_trip(make_checkpoint, tmp_path):
    for auto, class_name in ((nanohf.AutoModel, "RobertaModel"),
                             (nanohf.AutoModelForSequenceClassification, "RobertaForSequenceClassification"),
                             (nanohf.AutoModelForMaskedLM, "RobertaForMaskedLM"),
                             (nanohf.AutoModelForTokenClassification, "RobertaForTokenClassification"),
                             (nanohf.AutoModelForQuestionAnswering, "RobertaForQuestionAnswering")):  # fmt: skip
        folder = make_checkpoint(class_name, TINY_ROBERTA)
        assert type(auto.from_pretrained(folder)).__name__ == class_name
        assert type(nanohf.AutoConfig.from_pretrained(folder)) is nanohf.RobertaConfig
    model = nanohf.RobertaForMaskedLM.from_pretrained(make_checkpoint("RobertaForMaskedLM", TINY_ROBERTA))
    model.save_pretrained(tmp_path)
    input_ids, attention_mask = padded_batch()
    with torch.no_grad():
        theirs = torch_model("RobertaForMaskedLM", tmp_path)(torch.tensor(input_ids), torch.tensor(attention_mask))
    diff = max_diff(model(input_ids, attention_mask).logits, theirs.logits, attention_mask)
    assert diff <= LOGITS_TOL, f"saved by nanohf, run by transformers: max |Δ| {diff:.2e}"
    config = nanohf.RobertaConfig()
    assert (config.vocab_size, config.pad_token_id, config.bos_token_id, config.eos_token_id) == (50265, 1, 0, 2)


def test_too_long_input_names_the_limit(make_checkpoint):
    model = nanohf.RobertaModel.from_pretrained(make_checkpoint("RobertaModel", TINY_ROBERTA))
    model(np.full((1, 38), 5))  # positions 2..39: the whole table
    with pytest.raises(ValueError, match="at most 38 tokens"):
        model(np.full((1, 39), 5))
    model(np.concatenate([np.full((1, 38), 5), np.full((1, 2), PAD)], axis=1))  # padding takes no position


# --- pipelines ------------------------------------------------------------------------------------


def checkpoint_with_tokenizer(make_checkpoint, roberta_tokenizer_files, tmp_path_factory, class_name, **config):
    # A wide initializer spreads the logits so the ranking cannot flip on float rounding.
    config = {**TINY_ROBERTA, "vocab_size": 50262, "initializer_range": 0.5, **config}
    folder = tmp_path_factory.mktemp(class_name)
    shutil.copytree(make_checkpoint(class_name, config), folder, dirs_exist_ok=True)
    shutil.copytree(roberta_tokenizer_files, folder, dirs_exist_ok=True)
    return folder


FILL_MASK_TEXTS = ["Paris is the <mask> of France.", "The <mask> sat on the<mask>.", "<mask> is short"]


def test_fill_mask_pipeline(make_checkpoint, roberta_tokenizer_files, tmp_path_factory):
    folder = checkpoint_with_tokenizer(make_checkpoint, roberta_tokenizer_files, tmp_path_factory, "RobertaForMaskedLM")
    ours = nanohf.pipeline("fill-mask", model=str(folder))
    theirs = transformers.pipeline("fill-mask", model=str(folder))
    assert type(ours.tokenizer) is nanohf.RobertaTokenizer and type(ours.model) is nanohf.RobertaForMaskedLM
    for kwargs in ({}, {"top_k": 3}, {"targets": [" capital", "city", " Paris"]}):
        for inputs, batch_size in ((FILL_MASK_TEXTS[0], 1), (FILL_MASK_TEXTS, 1), (FILL_MASK_TEXTS, 2)):
            assert_same_fill_mask(ours(inputs, batch_size=batch_size, **kwargs),
                                  theirs(inputs, batch_size=batch_size, **kwargs), f"{kwargs} {inputs!r}")
    objects = nanohf.pipeline("fill-mask", model=nanohf.AutoModelForMaskedLM.from_pretrained(folder),
                              tokenizer=nanohf.AutoTokenizer.from_pretrained(folder), top_k=2)
    assert_same_fill_mask(objects(FILL_MASK_TEXTS, batch_size=2), theirs(FILL_MASK_TEXTS, top_k=2, batch_size=2),
                          "loaded objects")


def test_text_classification_pipeline(make_checkpoint, roberta_tokenizer_files, tmp_path_factory):
    folder = checkpoint_with_tokenizer(make_checkpoint, roberta_tokenizer_files, tmp_path_factory,
                                       "RobertaForSequenceClassification", num_labels=3)
    ours = nanohf.pipeline("text-classification", model=str(folder))
    theirs = transformers.pipeline("text-classification", model=str(folder))
    texts = ["I loved this film.", "Terrible, just terrible!", "a", "An ok movie with a long, winding plot " * 3]
    worst = 0.0
    for kwargs in ({}, {"top_k": None}, {"function_to_apply": "sigmoid"}):
        for inputs, batch_size in ((texts[0], 1), (texts, 1), (texts, 3)):
            got, want = ours(inputs, batch_size=batch_size, **kwargs), theirs(inputs, batch_size=batch_size, **kwargs)
            got, want = [got] if isinstance(got, dict) else got, [want] if isinstance(want, dict) else want
            assert len(got) == len(want)
            for a, b in zip(got, want, strict=True):
                a, b = (a if isinstance(a, list) else [a]), (b if isinstance(b, list) else [b])
                assert [x["label"] for x in a] == [x["label"] for x in b], f"{kwargs} {inputs!r}"
                worst = max(worst, *(abs(x["score"] - y["score"]) for x, y in zip(a, b, strict=True)))
    assert worst <= 1e-5, f"text-classification score |Δ| {worst:.2e}"
    pair = {"text": "A man is eating.", "text_pair": "Someone eats."}
    got, want = ours(pair), theirs(pair)
    assert got["label"] == want["label"] and abs(got["score"] - want["score"]) <= 1e-5
