"""text2text-generation, summarization and translation: an encoder-decoder model (BART) rewrites a text,
as transformers 4's pipelines did (transformers 5 removed them).

    preprocess   text -> one feature: token ids of prefix + text (padded on the right with the others)
    _forward     a padded batch (batch, src) -> model.generate -> (batch, n, length) decoder ids
    postprocess  one text's sequences -> [{"generated_text": ...}] (``summary_text``, ``translation_text``)

The three tasks differ only in the name of the answer's key. Generation settings are, by priority: the
call's keyword arguments, the checkpoint's ``task_specific_params[task]``, what its generation config
sets (differing from the library defaults), then the pipeline defaults ``max_new_tokens=256, num_beams=4``.

``pipeline("translation_en_to_fr")`` names the language pair: the task-specific parameters are looked up under
that name, and plain "translation" takes the checkpoint's first ``translation_*`` entry (with a warning).
"""

import types
import warnings
from dataclasses import asdict, fields

from nanohf.generation import GenerationConfig
from nanohf.models.auto import AutoModelForSeq2SeqLM
from nanohf.pipelines.base import Pipeline, require_head

PIPELINE_GENERATION_DEFAULTS = {"max_new_tokens": 256, "num_beams": 4}
GLOBAL_DEFAULT_MAX_LENGTH = 20  # transformers' "nothing set" max_length
OPTIONS = {"return_tensors", "return_text", "clean_up_tokenization_spaces", "truncation", "batch_size"}


class Text2TextGenerationPipeline(Pipeline):
    task = "text2text-generation"
    return_name = "generated"
    options = OPTIONS  # call parameters that are not generate()'s

    def __init__(self, model, tokenizer, batch_size: int = 1, task: str | None = None, **defaults):
        self.task = task or type(self).task  # e.g. "translation_en_to_fr"; keys the task_specific_params
        require_head(model, AutoModelForSeq2SeqLM, self.task, "an encoder-decoder language-model head")
        super().__init__(model, tokenizer, batch_size, task=self.task, **defaults)
        task_params = dict(task_specific_params(model.config).get(self.task, {}))
        self.prefix = task_params.pop("prefix", getattr(model.config, "prefix", None)) or ""
        self.generation_config = self._pipeline_generation_config(task_params)

    def _pipeline_generation_config(self, task_params: dict) -> GenerationConfig:
        """The model's generation config, with the pipeline defaults where it sets nothing of its own."""
        model_config, library = self.model.generation_config, GenerationConfig()
        values = asdict(model_config)
        for name, value in PIPELINE_GENERATION_DEFAULTS.items():
            if getattr(model_config, name) == getattr(library, name):
                values[name] = value
        # A checkpoint's own max_length wins over the pipeline's default max_new_tokens.
        if model_config.max_length not in (None, GLOBAL_DEFAULT_MAX_LENGTH) and model_config.max_new_tokens is None:
            values["max_new_tokens"] = None
        if values["pad_token_id"] is None and self.tokenizer.pad_token_id is not None:
            values["pad_token_id"] = self.tokenizer.pad_token_id
        known = {f.name for f in fields(GenerationConfig)}
        values.update({k: v for k, v in task_params.items() if k in known})
        return GenerationConfig(**values)

    def __call__(self, inputs, *args, **kwargs):
        """``pipe(text or [texts], max_new_tokens=..., num_beams=..., return_tensors=..., ...)``.

        A text gives a list of ``num_return_sequences`` dicts; a list of texts, a list of dicts when each
        has one answer, else a list of lists.
        """
        if isinstance(inputs, list) and self.tokenizer.pad_token_id is None:
            raise ValueError("Please make sure that the tokenizer has a pad_token_id when using a batch input")
        params = {**self.defaults, **kwargs}
        # Everything that is not an input or output option goes to generate(), for this call only.
        self._generate_kwargs = {k: v for k, v in params.items() if k not in self.options}
        try:
            results = super().__call__(inputs, *args, **kwargs)
            if isinstance(inputs, types.GeneratorType):
                return iter(list(results))  # run now, while this call's generation settings are in place
        finally:
            self._generate_kwargs = {}
        if isinstance(inputs, list) and all(len(answers) == 1 for answers in results):
            return [answers[0] for answers in results]
        return results

    def preprocess(self, text: str, truncation=None, **_) -> list[dict]:
        if not isinstance(text, str):
            raise TypeError(f"{self.task} takes a string or a list of strings, not {type(text).__name__}")
        encoded = self.tokenizer(self.prefix + text, **({} if truncation is None else {"truncation": truncation}))
        return [{"input_ids": list(encoded["input_ids"]), "attention_mask": list(encoded["attention_mask"])}]

    def _forward(self, model_inputs: dict, **_) -> dict:
        """``input_ids (batch, src)`` -> ``output_ids (batch, n, length)``: n = num_return_sequences."""
        batch = model_inputs["input_ids"].shape[0]
        sequences = self.model.generate(model_inputs["input_ids"], attention_mask=model_inputs["attention_mask"],
                                        generation_config=self.generation_config, **self._generate_kwargs)  # fmt: skip
        return {"output_ids": sequences.reshape(batch, sequences.shape[0] // batch, -1)}

    def postprocess(self, features_and_outputs, return_tensors: bool = False, return_text: bool = True,
                    clean_up_tokenization_spaces: bool = False, **_) -> list[dict]:  # fmt: skip
        [(_, outputs)] = features_and_outputs
        if return_tensors:
            return [{f"{self.return_name}_token_ids": row.tolist()} for row in outputs["output_ids"]]
        texts = [self.tokenizer.decode(row.tolist(), skip_special_tokens=True,
                                       clean_up_tokenization_spaces=clean_up_tokenization_spaces)
                 for row in outputs["output_ids"]]  # fmt: skip
        return [{f"{self.return_name}_text": text} for text in texts]


class SummarizationPipeline(Text2TextGenerationPipeline):
    task = "summarization"
    return_name = "summary"


class TranslationPipeline(Text2TextGenerationPipeline):
    """``src_lang``/``tgt_lang`` (from "translation_XX_to_YY" or the call) are kept for the record only: they
    steer multilingual tokenizers (mBART, Marian), which nanohf does not have; a single-pair model ignores them."""

    task = "translation"
    return_name = "translation"
    options = OPTIONS | {"src_lang", "tgt_lang"}

    def __init__(self, model, tokenizer, batch_size: int = 1, task: str | None = None, **defaults):
        if task in (None, "translation"):
            named = [key for key in task_specific_params(model.config) if key.startswith("translation")]
            if named:
                task = named[0]
                warnings.warn(f'"translation" task was used, instead of "translation_XX_to_YY", defaulting to '
                              f'"{task}"', UserWarning, stacklevel=2)  # fmt: skip
        super().__init__(model, tokenizer, batch_size, task=task, **defaults)
        parts = self.task.split("_")  # translation, XX, to, YY
        self.src_lang, self.tgt_lang = (parts[1], parts[3]) if len(parts) == 4 else (None, None)


def task_specific_params(config) -> dict:
    """The config's ``task_specific_params`` ({task: {generation settings, "prefix"}}), {} when unset."""
    return getattr(config, "task_specific_params", None) or {}
