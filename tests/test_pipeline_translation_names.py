"""pipeline("translation_XX_to_YY") as transformers 4 resolved it (transformers 5 removed the translation pipeline).

The task name picks ``task_specific_params["translation_XX_to_YY"]`` (prefix and generation settings) from the
config; plain "translation" falls back to the config's first ``translation_*`` entry. The judge is frozen in
tests/data/translation_names_golden.json: transformers 4.57.1's answers on test_pipeline_text2text.py's seeded
BART, whose config gets the ``TASK_PARAMS`` below. Regenerate with the transformers 4 venv:

    PYTHONPATH=. /tmp/venv-tf4/bin/python tests/test_pipeline_translation_names.py
"""

import json
import sys
import warnings
from pathlib import Path

from test_pipeline_text2text import jsonable, write_checkpoint

GOLDEN_PATH = Path(__file__).parent / "data" / "translation_names_golden.json"
TASK_PARAMS = {  # in this order: "translation" alone must skip "summarization" and take en_to_de
    "summarization": {"prefix": "summarize: ", "max_new_tokens": 3},
    "translation_en_to_de": {"prefix": "translate English to German: ", "max_new_tokens": 4, "num_beams": 1},
    "translation_en_to_fr": {"prefix": "translate English to French: ", "max_new_tokens": 6, "num_beams": 3,
                             "no_repeat_ngram_size": 2},
}  # fmt: skip
TEXTS = ["How old are you?", "I am fine, thanks."]
CASES = {
    "fr_list": ("translation_en_to_fr", TEXTS, {}),
    "de_single": ("translation_en_to_de", TEXTS[0], {}),
    "plain_takes_first_pair": ("translation", TEXTS, {}),
    "pair_without_params": ("translation_en_to_es", TEXTS[1], {"max_new_tokens": 4}),  # defaults: 4 beams, no prefix
    "langs_and_overrides": ("translation_en_to_fr", TEXTS, {"src_lang": "en", "tgt_lang": "fr", "num_beams": 1}),
}


def write_translation_checkpoint(folder: Path) -> Path:
    write_checkpoint(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    (folder / "config.json").write_text(json.dumps({**config, "task_specific_params": TASK_PARAMS}, indent=2))
    return folder


def write_golden() -> None:
    """transformers 4's answers (batch sizes 1 and 2 must agree) and the task each pipeline settled on."""
    import tempfile

    import transformers

    assert transformers.__version__.startswith("4."), "the golden answers come from transformers 4"
    golden = {"transformers_version": transformers.__version__, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = write_translation_checkpoint(Path(tmp))
        for name, (task, inputs, kwargs) in CASES.items():
            pipe = transformers.pipeline(task, model=str(folder), tokenizer=str(folder))
            answers = [jsonable(pipe(inputs, batch_size=size, **kwargs)) for size in (1, 2)]
            assert answers[0] == answers[1], name
            golden["cases"][name] = {"task": pipe.task, "answer": answers[0]}
    GOLDEN_PATH.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(write_golden())


# --- the tests (transformers 5 environment) ----------------------------------------------------------------

import pytest  # noqa: E402

import nanohf  # noqa: E402

GOLDEN = json.loads(GOLDEN_PATH.read_text(encoding="utf-8"))["cases"]


@pytest.fixture(scope="module")
def bart_dir(tmp_path_factory):
    return write_translation_checkpoint(tmp_path_factory.mktemp("translation_names"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_task_names_equal_transformers_4(bart_dir, name):
    task, inputs, kwargs = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_dir = nanohf.pipeline(task, model=bart_dir)
        objects = nanohf.pipeline(task, model=nanohf.AutoModelForSeq2SeqLM.from_pretrained(bart_dir),
                                  tokenizer=nanohf.AutoTokenizer.from_pretrained(bart_dir), batch_size=2)  # fmt: skip
    for pipe in (by_dir, objects):
        assert type(pipe) is nanohf.pipelines.text2text_generation.TranslationPipeline
        assert pipe.task == GOLDEN[name]["task"], name
        assert jsonable(pipe(inputs, **kwargs)) == GOLDEN[name]["answer"], f"{name}: {pipe(inputs, **kwargs)}"


def test_language_pair_and_fallback_warning(bart_dir):
    pipe = nanohf.pipeline("translation_en_to_fr", model=bart_dir)
    assert (pipe.src_lang, pipe.tgt_lang, pipe.prefix) == ("en", "fr", "translate English to French: ")
    assert (pipe.generation_config.max_new_tokens, pipe.generation_config.num_beams) == (6, 3)
    with pytest.warns(UserWarning, match='"translation" task was used.*defaulting to "translation_en_to_de"'):
        pipe = nanohf.pipeline("translation", model=bart_dir)
    assert (pipe.src_lang, pipe.tgt_lang, pipe.prefix) == ("en", "de", "translate English to German: ")


def test_bad_task_names(bart_dir):
    for task in ("translation_en_fr", "translation_en_to", "translation_en_to_fr_x", "translationen_to_fr"):
        with pytest.raises(KeyError, match="Invalid translation task.*translation_XX_to_YY"):
            nanohf.pipeline(task, model=bart_dir)
    with pytest.raises(KeyError, match="Unknown task 'translate'.*translation_XX_to_YY"):
        nanohf.pipeline("translate", model=bart_dir)
