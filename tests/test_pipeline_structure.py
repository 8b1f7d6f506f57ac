"""What every pipeline returns, compared with transformers 5's pipeline on the same folders and the same calls.

For each task and input form (one input, a list, a one-element list, text pairs, dict inputs where
transformers takes them) the two results must have the same structure: the same types (a Python float
where transformers gives a float, an np.float32 where it gives one), the same nesting and list lengths,
the same dict keys in the same order, equal strings and integers, and floats within the tolerance (the
measured |Δ| is in the assertion message). question-answering and the text2text tasks are not here:
transformers 5 removed them (checked below); tests/test_pipeline_question_answering.py and
test_pipeline_text2text.py hold them to transformers 4.57's answers, structure included.
"""

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers
from conftest import TINY_BERT

import nanohf
import nanohf.pipelines

TOLERANCE = 1e-4  # scores and hidden states; the models are float32 in both libraries
GPT2_TOKENIZER = Path(__file__).resolve().parents[1] / "data" / "tokenizers" / "gpt2"
NLI_LABELS = {0: "entailment", 1: "neutral", 2: "contradiction"}
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
A, B = "I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"
PAIR = {"text": "A man is eating.", "text_pair": "Someone eats."}
ONE_MASK, TWO_MASKS = "Paris is the [MASK] of France.", "The [MASK] sat on the [MASK]."
NER_A, NER_B = "Sylvain works at Hugging Face in Brooklyn.", "Angela Merkel visited New York City and Zürich"


def minilm_vocab_checkpoint(make_checkpoint, minilm_dir, folder: Path, class_name: str, **config) -> Path:
    shutil.copytree(make_checkpoint(class_name, {**TINY_BERT, "vocab_size": 30522, **config}), folder,
                    dirs_exist_ok=True)  # fmt: skip
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, folder)
    return folder


@pytest.fixture(scope="module")
def folders(make_checkpoint, minilm_dir, tmp_path_factory) -> dict[str, Path]:
    """One checkpoint folder per task, written by transformers (random weights, MiniLM's or GPT-2's vocabulary)."""
    root = tmp_path_factory.mktemp("structure")
    labels = {0: "NEGATIVE", 1: "POSITIVE", 2: "NEUTRAL"}
    ner = dict(enumerate(NER_LABELS))
    gpt2 = root / "gpt2"
    tiny_gpt2 = dict(vocab_size=50257, n_embd=32, n_layer=2, n_head=4, n_positions=128)
    shutil.copytree(make_checkpoint("GPT2LMHeadModel", tiny_gpt2), gpt2)
    shutil.copy(GPT2_TOKENIZER / "encoder.json", gpt2 / "vocab.json")
    shutil.copy(GPT2_TOKENIZER / "vocab.bpe", gpt2 / "merges.txt")
    return {
        "text-classification": minilm_vocab_checkpoint(
            make_checkpoint, minilm_dir, root / "cls", "BertForSequenceClassification", id2label=labels,
            label2id={v: k for k, v in labels.items()}, initializer_range=0.5),
        "zero-shot-classification": minilm_vocab_checkpoint(
            make_checkpoint, minilm_dir, root / "nli", "BertForSequenceClassification", id2label=NLI_LABELS,
            label2id={v: k for k, v in NLI_LABELS.items()}, initializer_range=0.5),
        "fill-mask": minilm_vocab_checkpoint(make_checkpoint, minilm_dir, root / "mlm", "BertForMaskedLM",
                                             initializer_range=0.5),
        "token-classification": minilm_vocab_checkpoint(
            make_checkpoint, minilm_dir, root / "ner", "BertForTokenClassification", id2label=ner,
            label2id={v: k for k, v in ner.items()}, initializer_range=0.5),
        "feature-extraction": minilm_dir,  # the real all-MiniLM-L6-v2
        "text-generation": gpt2,
    }  # fmt: skip


@pytest.fixture(scope="module")
def build(folders):
    """``build(task, **init) -> (nanohf pipeline, transformers pipeline)``, each built once."""
    cache = {}

    def pipelines(task: str, **init):
        key = (task, tuple(sorted((k, repr(v)) for k, v in init.items())))
        if key not in cache:
            folder = str(folders[nanohf.pipelines.TASK_ALIASES.get(task, task)])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cache[key] = (nanohf.pipeline(task, model=folder, **init),
                              transformers.pipeline(task, model=folder, **init))  # fmt: skip
        return cache[key]

    return pipelines


def compare(got, want, where: str = "result") -> float:
    """Assert ``got`` has ``want``'s structure and values; return the largest float |Δ| found."""
    if isinstance(want, torch.Tensor):  # return_tensors=True: transformers gives torch, nanohf NumPy
        assert isinstance(got, np.ndarray), f"{where}: {type(got).__name__} where transformers has a tensor"
        want = want.numpy()
        assert got.shape == want.shape and got.dtype == want.dtype, f"{where}: {got.shape} {got.dtype} vs {want.shape}"
        diff = float(np.abs(got - want).max())
        assert diff <= TOLERANCE, f"{where}: |Δ| {diff:.2e}"
        return diff
    assert type(got) is type(want), f"{where}: {type(got).__name__} where transformers has {type(want).__name__}"
    if isinstance(want, dict):
        assert list(got) == list(want), f"{where}: keys {list(got)} != {list(want)}"
        return max([0.0] + [compare(got[k], want[k], f"{where}[{k!r}]") for k in want])
    if isinstance(want, list):
        assert len(got) == len(want), f"{where}: {len(got)} items where transformers has {len(want)}"
        return max([0.0] + [compare(g, w, f"{where}[{i}]") for i, (g, w) in enumerate(zip(got, want, strict=True))])
    if isinstance(want, (float, np.floating)):
        diff = abs(float(got) - float(want))
        assert diff <= TOLERANCE, f"{where}: {got} vs {want}, |Δ| {diff:.2e}"
        return diff
    assert got == want, f"{where}: {got!r} != {want!r}"
    return 0.0


# (id, task, pipeline() keyword arguments, call arguments, call keyword arguments)
CASES = [
    # text-classification: a bare string gets a one-element list, a pair dict its bare dict
    ("cls/one", "text-classification", {}, (A,), {}),
    ("cls/list", "text-classification", {}, ([A, B],), {}),
    ("cls/one-element-list", "text-classification", {}, ([A],), {}),
    ("cls/pair-dict", "text-classification", {}, (PAIR,), {}),
    ("cls/list-of-pair-dicts", "text-classification", {}, ([PAIR, {"text": B, "text_pair": A}],), {}),
    ("cls/legacy-nested-pair", "text-classification", {}, ([[[PAIR["text"], PAIR["text_pair"]]]],), {}),
    ("cls/one-top_k=2", "text-classification", {}, (A,), {"top_k": 2}),
    ("cls/list-top_k=2", "text-classification", {}, ([A, B],), {"top_k": 2}),
    ("cls/one-top_k=None", "text-classification", {}, (A,), {"top_k": None}),
    ("cls/one-top_k=1", "text-classification", {}, (A,), {"top_k": 1}),
    ("cls/pair-top_k=None", "text-classification", {}, (PAIR,), {"top_k": None}),
    ("cls/list-of-pairs-top_k=None", "text-classification", {}, ([PAIR, PAIR],), {"top_k": None}),
    ("cls/sigmoid", "text-classification", {}, ([A, B],), {"function_to_apply": "sigmoid"}),
    ("cls/none", "text-classification", {}, (A,), {"function_to_apply": "none", "top_k": None}),
    ("cls/tokenizer-kwargs", "text-classification", {}, (A,), {"truncation": True, "max_length": 6}),
    ("cls/init-top_k=None-one", "text-classification", {"top_k": None}, (A,), {}),  # [[...]], as transformers
    ("cls/init-top_k=None-list", "text-classification", {"top_k": None}, ([A, B],), {}),
    ("cls/init-top_k=1-one", "text-classification", {"top_k": 1}, (A,), {}),
    ("cls/init-top_k=2-call-top_k", "text-classification", {"top_k": 2}, (A,), {"top_k": 1}),
    ("cls/batch_size=2", "text-classification", {"batch_size": 2}, ([A, B, PAIR["text"]],), {}),
    # fill-mask: one mask -> candidates; several -> one list per mask; a one-element list is unwrapped
    ("mask/one", "fill-mask", {}, (ONE_MASK,), {}),
    ("mask/list", "fill-mask", {}, ([ONE_MASK, "hello [MASK] world"],), {"top_k": 3}),
    ("mask/one-element-list", "fill-mask", {}, ([ONE_MASK],), {"top_k": 2}),
    ("mask/two-masks", "fill-mask", {}, (TWO_MASKS,), {"top_k": 2}),
    ("mask/two-masks-one-element-list", "fill-mask", {}, ([TWO_MASKS],), {"top_k": 2}),
    ("mask/mixed-list", "fill-mask", {}, ([TWO_MASKS, ONE_MASK],), {"top_k": 2}),
    ("mask/top_k=1", "fill-mask", {}, (ONE_MASK,), {"top_k": 1}),
    ("mask/targets", "fill-mask", {}, ([ONE_MASK, ONE_MASK],), {"targets": ["capital", "city"]}),
    ("mask/init-top_k", "fill-mask", {"top_k": 2}, ([ONE_MASK, TWO_MASKS],), {}),
    # token-classification: a list per text, np.float32 scores
    ("ner/one", "token-classification", {}, (NER_A,), {}),
    ("ner/list", "token-classification", {}, ([NER_A, NER_B],), {}),
    ("ner/one-element-list", "token-classification", {}, ([NER_A],), {}),
    ("ner/alias", "ner", {}, (NER_B,), {"ignore_labels": []}),
    *[(f"ner/{s}-one", "token-classification", {}, (NER_B,), {"aggregation_strategy": s})
      for s in ("simple", "first", "average", "max")],
    *[(f"ner/{s}-list", "token-classification", {}, ([NER_A, NER_B],), {"aggregation_strategy": s})
      for s in ("simple", "first", "average", "max")],
    ("ner/init-simple-one-element-list", "token-classification", {"aggregation_strategy": "simple"}, ([NER_A],), {}),
    ("ner/split-words-one", "token-classification", {}, (NER_A.split(),), {"is_split_into_words": True}),
    ("ner/split-words-list", "token-classification", {}, ([NER_A.split(), NER_B.split()],),
     {"is_split_into_words": True, "aggregation_strategy": "first"}),
    ("ner/split-words-delimiter", "token-classification", {}, ([NER_B.split()],),
     {"is_split_into_words": True, "delimiter": "_", "aggregation_strategy": "simple"}),
    ("ner/split-words-init", "token-classification", {"is_split_into_words": True}, (NER_B.split(),),
     {"aggregation_strategy": "max"}),
    # zero-shot-classification: a dict per text
    ("zero/one", "zero-shot-classification", {}, (A, ["urgent", "phone", "sports"]), {}),
    ("zero/list", "zero-shot-classification", {}, ([A, B], ["urgent", "phone"]), {}),
    ("zero/one-element-list", "zero-shot-classification", {}, ([A],), {"candidate_labels": ["urgent", "phone"]}),
    ("zero/labels-string", "zero-shot-classification", {}, (A,), {"candidate_labels": "urgent, phone"}),
    ("zero/one-label", "zero-shot-classification", {}, ([A, B], "urgent"), {}),
    ("zero/multi_label", "zero-shot-classification", {}, ([A, B], ["urgent", "phone"]), {"multi_label": True}),
    ("zero/template", "zero-shot-classification", {}, (A, ["phone"]), {"hypothesis_template": "It is {}."}),
    # feature-extraction: (1, seq, hidden) nested lists per text; return_tensors -> arrays (tensors there)
    ("features/one", "feature-extraction", {}, (A,), {}),
    ("features/list", "feature-extraction", {}, ([A, B],), {}),
    ("features/one-element-list", "feature-extraction", {}, ([B],), {}),
    ("features/tensors-one", "feature-extraction", {}, (B,), {"return_tensors": True}),
    ("features/tensors-list", "feature-extraction", {}, ([A, B],), {"return_tensors": True}),
    ("features/tokenize_kwargs", "feature-extraction", {}, (A,), {"tokenize_kwargs": {"max_length": 5,
                                                                                       "truncation": True}}),
    # text-generation (greedy, so the text is deterministic): a list of dicts per prompt
    ("gen/one", "text-generation", {}, ("Hello, my dog",), {"max_new_tokens": 4, "do_sample": False}),
    ("gen/list", "text-generation", {}, (["Hello, my dog", "A"],), {"max_new_tokens": 3, "do_sample": False}),
    ("gen/one-element-list", "text-generation", {}, (["A"],), {"max_new_tokens": 3, "do_sample": False}),
    ("gen/new-text", "text-generation", {}, ("A",), {"max_new_tokens": 3, "do_sample": False,
                                                     "return_full_text": False}),
    ("gen/tensors", "text-generation", {}, (["Hello", "A"],), {"max_new_tokens": 3, "do_sample": False,
                                                               "return_tensors": True}),
    ("gen/beams-2-sequences", "text-generation", {}, ("Hello",), {"max_new_tokens": 3, "do_sample": False,
                                                                  "num_beams": 2, "num_return_sequences": 2}),
]  # fmt: skip


@pytest.mark.parametrize("task, init, args, kwargs", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_structure_and_values_equal_transformers(build, task, init, args, kwargs):
    ours, theirs = build(task, **init)
    want = theirs(*args, **kwargs)
    got = ours(*args, **kwargs)
    compare(got, want)


def test_return_all_scores_is_ignored_as_in_transformers_5_with_a_warning(build, folders):
    # transformers 5 hands return_all_scores to the tokenizer, which ignores it: the best label only.
    ours, theirs = build("text-classification")
    for inputs in (A, [A, B]):
        with pytest.warns(UserWarning, match="return_all_scores=True is ignored"):
            got = ours(inputs, return_all_scores=True)
        compare(got, theirs(inputs, return_all_scores=True))
        assert got == ours(inputs)
    with pytest.warns(UserWarning, match="return_all_scores"):
        built = nanohf.pipeline("text-classification", model=str(folders["text-classification"]),
                                return_all_scores=True)  # fmt: skip
    theirs_built = transformers.pipeline("text-classification", model=str(folders["text-classification"]),
                                         return_all_scores=True)  # fmt: skip
    compare(built(A), theirs_built(A))


def test_text_pairs_in_the_wrong_container_are_refused(build):
    ours, theirs = build("text-classification")
    pair = [PAIR["text"], PAIR["text_pair"]]
    # A list item that is a list of two texts: transformers' own ValueError, pointing to the dict form.
    with pytest.raises(ValueError, match="text_pair"):
        theirs([pair])
    with pytest.raises(ValueError, match="text_pair"):
        ours([pair])
    # A tuple: transformers' tokenizer reads it as a batch of two texts; the pipeline then reports the first
    # text's score only when both have the same length (a silent half-answer) and fails otherwise. nanohf
    # refuses it and names the dict form.
    same_length = ("I love this.", "It is great.")
    compare(theirs([same_length], top_k=None), theirs([same_length[0]], top_k=None))
    with pytest.raises(ValueError):
        theirs([tuple(pair)])
    for inputs in ([same_length], same_length, [tuple(pair)]):
        with pytest.raises(ValueError, match="text_pair"):
            ours(inputs)


@pytest.mark.parametrize("task", ["question-answering", "summarization", "translation", "text2text-generation",
                                  "translation_en_to_fr"])  # fmt: skip
def test_tasks_transformers_5_removed_are_kept_from_transformers_4(task):
    with pytest.raises(KeyError, match="has been removed from transformers"):
        transformers.pipeline(task)  # refused before any model is looked for
    assert nanohf.pipelines.check_task(task)[0] in nanohf.pipelines.TASKS


STREAMS = [
    ("text-classification", [A, B, PAIR], {}),
    ("fill-mask", [ONE_MASK, TWO_MASKS, ONE_MASK], {"top_k": 2}),
    ("token-classification", [NER_A, NER_B, NER_A], {"aggregation_strategy": "simple"}),
    ("zero-shot-classification", [A, B, A], {"candidate_labels": ["urgent", "phone"]}),
    ("feature-extraction", [A, B, A], {}),
    ("text-generation", ["Hello", "A", "Hello"], {"max_new_tokens": 2, "do_sample": False}),
]


@pytest.mark.parametrize("task, items, kwargs", STREAMS, ids=[stream[0] for stream in STREAMS])
def test_a_generator_gives_an_iterator_of_answers(build, task, items, kwargs):
    ours, theirs = build(task)
    want = theirs((item for item in items), **kwargs)
    got = ours((item for item in items), batch_size=2, **kwargs)
    assert not isinstance(want, list) and not isinstance(got, list) and iter(got) is got
    compare(list(got), list(want))


def test_chat_messages_need_a_chat_template(build):
    ours, theirs = build("text-generation")
    chat = [{"role": "user", "content": "Hello!"}]
    for inputs in (chat, [chat, chat]):
        for pipe in (theirs, ours):
            with pytest.raises(ValueError, match="chat_template is not set"):
                pipe(inputs, max_new_tokens=2)
