"""Fuzz worker, run in a subprocess by tests/test_fuzz_models.py: one JSON line per case, flushed.

``python tests/fuzz_worker.py config <folder> <seed> <cases>``: each case writes a config.json with one
field changed to a junk value into a scratch copy of ``folder``, loads it with the checkpoint's
architecture and runs a forward pass.

``python tests/fuzz_worker.py inputs <folder> <seed> <cases>``: each case calls the loaded model (or its
``generate``) with one argument replaced by a junk array or value.

A line is printed *before* each case runs too, so a crash names its case.
"""

import json
import random
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

import numpy as np
from fuzz_files import FILE_FUZZERS

JUNK = [
    None, True, False, 0, 1, -1, 2, 3, 7, -100, 10**6, 10**12, 2**63, 0.0, 0.5, 1.5, -0.5, 32.5, float("inf"),
    float("nan"), "", "abc", "32", "gelu", "relu", "1e-5", [], [1], [1, 2], {}, {"a": 1}, {"0": "x"}, [[]], "null",
]  # fmt: skip
CLEAR_TYPES = (ValueError, OSError, TypeError, NotImplementedError)


def classify(folder: Path, field: str, err: BaseException) -> str:
    message = str(err)
    named = str(folder) in message or field in message or "checkpoint tensor" in message
    return "clear error" if isinstance(err, CLEAR_TYPES) and named else "unclear error"


def forward(model, config: dict) -> list:
    """Every array the model returns for a fixed batch (logits, hidden states, a loss's value)."""
    ids = np.array([[0, 3, 4, 5, 2], [0, 6, 7, 2, 1]])
    out = model(ids, decoder_input_ids=ids[:, :3]) if config.get("is_encoder_decoder") else model(ids)
    return [getattr(v, "value", v) for v in out.values()]


def all_finite(arrays: list) -> bool:
    return all(np.isfinite(a).all() for a in arrays if isinstance(a, np.ndarray | np.floating))


def run_config_cases(folder: Path, seed: int, cases: int) -> None:
    import nanohf

    rnd = random.Random(seed)
    original = json.loads((folder / "config.json").read_text())
    scratch = Path(tempfile.mkdtemp())
    try:
        for name in folder.iterdir():
            shutil.copy(name, scratch / name.name)
        fields = sorted(original)
        for case in range(cases):
            field, value = rnd.choice(fields), rnd.choice(JUNK)
            config = {**original, field: value}
            print(json.dumps({"case": case, "field": field, "value": repr(value), "status": "started"}), flush=True)
            (scratch / "config.json").write_text(json.dumps(config))
            try:
                model = _load(nanohf, scratch, original)
                verdict = "correct load" if all_finite(forward(model, config)) else "silent wrong result"
                detail = ""
            except Exception as err:  # noqa: BLE001 - classifying is the point
                verdict = classify(scratch, field, err)
                detail = f"{type(err).__name__}: {str(err)[:300]}"
                if verdict == "unclear error":
                    detail += " | " + traceback.format_exc(limit=-2).replace("\n", " ")[-400:]
            line = {"case": case, "field": field, "value": repr(value), "verdict": verdict, "detail": detail}
            print(json.dumps(line), flush=True)
    finally:
        shutil.rmtree(scratch)


def _load(nanohf, folder: Path, original: dict):
    """The checkpoint's own architecture, as a user would name it (the junk may not change which class)."""
    architecture = original["architectures"][0]
    return getattr(nanohf, architecture).from_pretrained(folder)


def junk_array(rnd: random.Random, vocab: int) -> object:
    """An array (or not) that a model argument must refuse or handle: odd shapes, dtypes and values."""
    shape = rnd.choice([(2, 5), (2, 5), (5,), (1, 5), (2, 3), (2, 7), (3, 5), (0, 5), (2, 0), (2, 5, 1), ()])
    kind = rnd.choice(["ids", "ids", "negative", "big", "float", "bool", "object", "nested", "none", "scalar"])
    rng = np.random.default_rng(rnd.randrange(2**32))
    if kind == "ids":
        return rng.integers(0, vocab, shape)
    if kind == "negative":
        return -rng.integers(1, 5, shape)
    if kind == "big":
        return rng.integers(vocab, 2**62, shape)
    if kind == "float":
        return rng.random(shape) * 3
    if kind == "bool":
        return rng.random(shape) < 0.5
    if kind == "object":
        return np.array(["a"] * int(np.prod(shape)), dtype=object).reshape(shape)
    if kind == "nested":
        return [[1, 2], [3]]
    if kind == "scalar":
        return rnd.choice([3, -1, 2.5, "x"])
    return None


GENERATE_JUNK = {
    "max_new_tokens": [0, -1, 1, 3, 2.5, "3"], "num_beams": [0, -1, 1, 2, 3], "temperature": [0.0, -1.0, 0.5, 2.0],
    "top_k": [-1, 0, 1, 5], "top_p": [-0.1, 0.0, 0.5, 1.0, 1.5], "repetition_penalty": [0.0, -1.0, 1.3],
    "do_sample": [True, False], "no_repeat_ngram_size": [-1, 0, 2], "num_return_sequences": [0, 1, 2],
    "min_new_tokens": [-1, 0, 2], "max_length": [0, 1, 3, 10], "eos_token_id": [None, 2, -1, 10**6],
}  # fmt: skip


def run_input_cases(folder: Path, seed: int, cases: int) -> None:
    import nanohf

    rnd = random.Random(seed)
    config = json.loads((folder / "config.json").read_text())
    model = getattr(nanohf, config["architectures"][0]).from_pretrained(folder)
    vocab = config["vocab_size"]
    good = {"input_ids": np.array([[0, 3, 4, 5, 2], [0, 6, 7, 2, 1]]), "attention_mask": np.ones((2, 5), dtype=int)}
    arguments = ["input_ids", "attention_mask", "labels", "position_ids", "token_type_ids"]
    if hasattr(model, "generate"):
        arguments.append("generate")
    if config.get("is_encoder_decoder"):
        arguments += ["decoder_input_ids", "decoder_attention_mask"]
    for case in range(cases):
        argument = rnd.choice(arguments)
        if argument == "generate":
            kwargs = {name: rnd.choice(values) for name, values in rnd.sample(sorted(GENERATE_JUNK.items()), 2)}
            kwargs.setdefault("max_new_tokens", 2)
            described, names = repr(kwargs), [*kwargs, *(n.rsplit("_", 1)[-1] for n in kwargs)]  # `penalty`
        else:
            value = junk_array(rnd, vocab)
            described, names = f"{argument}={value!r:.120}", [argument, *good]
        print(json.dumps({"case": case, "argument": described, "status": "started"}), flush=True)
        try:
            if argument == "generate":
                out = model.generate(good["input_ids"], attention_mask=good["attention_mask"], **kwargs)
                finite = np.issubdtype(np.asarray(out).dtype, np.integer)
            else:
                out = model(**{**good, argument: value})
                finite = all_finite([getattr(v, "value", v) for v in out.values()])  # a Loss holds .value
            verdict, detail = ("correct result" if finite else "silent wrong result"), ""
        except Exception as err:  # noqa: BLE001 - classifying is the point
            message = str(err)
            named = any(f"`{n}`" in message or n in message for n in names)
            verdict = "clear error" if isinstance(err, CLEAR_TYPES) and named else "unclear error"
            detail = f"{type(err).__name__}: {message[:300]}"
            if verdict == "unclear error":
                detail += " | " + traceback.format_exc(limit=-2).replace("\n", " ")[-400:]
        print(json.dumps({"case": case, "argument": described, "verdict": verdict, "detail": detail}), flush=True)


if __name__ == "__main__":
    kind, folder, seed, cases = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    if kind in FILE_FUZZERS:  # tests/fuzz_files.py: resumable after a crash (start = the next case)
        FILE_FUZZERS[kind](folder, seed, int(sys.argv[5]) if len(sys.argv) > 5 else 0, cases)
    else:
        {"config": run_config_cases, "inputs": run_input_cases}[kind](folder, seed, cases)
