"""text-generation: continue a prompt with a causal language model (GPT-2), as transformers' pipeline does.

A prompt can also be a chat (a list of {"role", "content"} messages): the tokenizer's chat template renders it, and
the full-text answer is the chat with the model's reply appended as an assistant message.

Generation is not one forward pass, so this pipeline keeps the base class's three steps but runs them
its own way:

    preprocess   prompt -> one feature: token ids of prefix + prompt
    _forward     a left-padded batch (batch, prompt_len) -> model.generate -> (batch, n, total_len) ids
    postprocess  one prompt's sequences -> [{"generated_text": ...}] (or {"generated_token_ids": ...}), n of them

Left padding lines the prompts up at their last token, so the new tokens of a batch land in the same columns.
"""

import types
from dataclasses import fields

import numpy as np

from nanohf.generation import GenerationConfig
from nanohf.pipelines.base import Pipeline

# transformers' pipeline defaults for whatever neither the call nor the model's generation config sets:
# free-form text reads better sampled, and 256 new tokens is a paragraph or two.
PIPELINE_GENERATION_DEFAULTS = {"max_new_tokens": 256, "do_sample": True, "temperature": 0.7}
SAMPLING_SETTINGS = {"temperature", "top_k", "top_p"}  # meaningful only with do_sample
FULL_TEXT, NEW_TEXT, TENSORS = "full_text", "new_text", "tensors"


class TextGenerationPipeline(Pipeline):
    def __init__(self, model, tokenizer, batch_size: int = 1, **defaults):
        if not hasattr(model, "generate"):
            raise TypeError(
                f"{type(model).__name__} cannot generate: text-generation needs a causal language-model head "
                "such as GPT2LMHeadModel"
            )
        super().__init__(model, tokenizer, batch_size, **defaults)

    def __call__(self, text_inputs, batch_size: int | None = None, **kwargs):
        """``pipe(prompt or [prompts], max_new_tokens=..., do_sample=..., return_full_text=..., ...)``.

        A prompt gives a list of ``num_return_sequences`` dicts; a list of prompts, a list of such lists.
        """
        if isinstance(text_inputs, types.GeneratorType):  # an iterator of answers, one prompt at a time
            return (self(prompt, batch_size=batch_size, **kwargs) for prompt in text_inputs)
        params = {**self.defaults, **kwargs}
        prefix = params.pop("prefix", getattr(self.model.config, "prefix", None)) or ""
        chat_settings = {key: params.pop(key, None) for key in ("continue_final_message", "tools", "documents")}
        output = self._output_settings(params)
        generate_kwargs = self._generate_kwargs(params, prefix)
        single = isinstance(text_inputs, str) or is_chat(text_inputs)
        prompts = [text_inputs] if single else list(text_inputs)
        features = [f for prompt in prompts
                    for f in self.preprocess(prompt, prefix, params.get("max_length"), **chat_settings)]
        size = batch_size or self.batch_size
        results = []
        for start in range(0, len(features), size):
            chunk = features[start : start + size]
            outputs = self._forward(self._pad_left(chunk), **generate_kwargs)
            for feature, sequences in zip(chunk, outputs["generated_sequence"], strict=True):
                row = {"generated_sequence": sequences, "prompt_length": outputs["prompt_length"]}
                results.append(self.postprocess([(feature, row)], **output))
        return results[0] if single else results

    # --- call-time settings -------------------------------------------------------------------------------

    @staticmethod
    def _output_settings(params: dict) -> dict:
        """Pop the output options: what to return, and how to decode it."""
        full_text, tensors, text = (params.pop(k, None) for k in ("return_full_text", "return_tensors", "return_text"))
        if full_text is not None and (text is not None or tensors is not None):
            raise ValueError("`return_full_text` is mutually exclusive with `return_text` and `return_tensors`")
        if tensors and text is not None:
            raise ValueError("`return_text` is mutually exclusive with `return_tensors`")
        return_type = FULL_TEXT if full_text or full_text is None else NEW_TEXT
        return {
            "return_type": TENSORS if tensors else return_type,
            "clean_up_tokenization_spaces": params.pop("clean_up_tokenization_spaces", None),
            "skip_special_tokens": params.pop("skip_special_tokens", True),
        }

    def _generate_kwargs(self, params: dict, prefix: str) -> dict:
        """The generate() arguments: the call's, then the pipeline defaults for what nothing has set yet.

        "Set" means given in this call, or different from the library default in the model's generation
        config, as transformers decides: a plain GPT-2 checkpoint is therefore sampled (temperature 0.7)
        unless the call says ``do_sample=False``."""
        model_config = self.model.generation_config
        default = GenerationConfig()
        already_set = {f.name for f in fields(GenerationConfig)
                       if getattr(model_config, f.name) != getattr(default, f.name)} | set(params)  # fmt: skip
        added = {k: v for k, v in PIPELINE_GENERATION_DEFAULTS.items() if k not in already_set}
        if "max_length" in already_set:
            added.pop("max_new_tokens", None)  # a default max_new_tokens would override the set max_length
        if self.tokenizer.pad_token_id is not None and "pad_token_id" not in already_set:
            added["pad_token_id"] = self.tokenizer.pad_token_id
        kwargs = {**params, **added}
        sampling = kwargs.get("do_sample", model_config.do_sample)
        if not sampling:
            kwargs = {k: v for k, v in kwargs.items() if k not in SAMPLING_SETTINGS or k in params}
        if prefix and "max_length" in already_set and "max_new_tokens" not in already_set | set(kwargs):
            # A total length counts the prompt, and the prompt now starts with the prefix.
            max_length = kwargs.get("max_length", model_config.max_length)
            kwargs["max_length"] = max_length + len(self.tokenizer(prefix)["input_ids"])
        return kwargs

    # --- the three steps ----------------------------------------------------------------------------------

    def preprocess(self, prompt, prefix: str = "", max_length: int | None = None, continue_final_message=None,
                   tools=None, documents=None, **_) -> list[dict]:
        """A prompt -> [one feature]: ``input_ids`` of prefix + prompt (an empty prompt starts from bos).

        A chat (a list of {"role", "content"} messages) is rendered by the tokenizer's chat template instead, with
        the header of a new assistant message at the end, or, when the chat ends with an assistant message (or
        continue_final_message=True), leaving that message open so the model continues it."""
        if is_chat(prompt):
            if continue_final_message is None:
                continue_final_message = prompt[-1]["role"] == "assistant"
            input_ids = self.tokenizer.apply_chat_template(
                prompt, add_generation_prompt=not continue_final_message, continue_final_message=continue_final_message,
                return_dict=True, tools=tools, documents=documents)["input_ids"]
            return [{"input_ids": list(input_ids), "prompt_text": list(prompt), "from_bos": False,
                     "continue_final_message": continue_final_message}]
        if not isinstance(prompt, str):
            raise TypeError(f"text-generation takes a string or a list of strings, not {type(prompt).__name__}")
        encoded = self.tokenizer(prefix + prompt, **({"max_length": max_length} if max_length is not None else {}))
        input_ids = list(encoded["input_ids"])
        feature = {"input_ids": input_ids, "prompt_text": prompt, "from_bos": not input_ids}
        if not input_ids:
            # Nothing to continue: generation starts from the bos token, which then counts as generated.
            bos = self.model.generation_config.bos_token_id
            if bos is None:
                raise ValueError("an empty prompt needs the model's bos_token_id to start from")
            feature["input_ids"] = [bos]
        return [feature]

    def _pad_left(self, features: list[dict]) -> dict:
        """Features -> ``input_ids``/``attention_mask`` (batch, longest), padded on the left.

        The pad id only fills masked slots; GPT-2 has no pad token, so its eos id stands in (the usual choice)."""
        pad_id = self.tokenizer.pad_token_id
        if pad_id is None:
            eos = self.model.generation_config.eos_token_id
            pad_id = np.atleast_1d(eos)[0] if eos is not None else 0
        longest = max(len(f["input_ids"]) for f in features)
        input_ids = np.full((len(features), longest), pad_id, dtype=np.int64)
        attention_mask = np.zeros_like(input_ids)
        for row, feature in enumerate(features):
            n = len(feature["input_ids"])
            input_ids[row, longest - n :] = feature["input_ids"]
            attention_mask[row, longest - n :] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    def _forward(self, model_inputs: dict, **generate_kwargs) -> dict:
        """``input_ids (batch, prompt_len)`` -> ``generated_sequence (batch, n, prompt_len + new)`` and
        ``prompt_length`` (the padded prompt's, where every row's new tokens begin)."""
        batch, prompt_length = model_inputs["input_ids"].shape
        sequences = self.model.generate(**model_inputs, **generate_kwargs)
        return {"generated_sequence": sequences.reshape(batch, sequences.shape[0] // batch, -1),
                "prompt_length": prompt_length}  # fmt: skip

    def postprocess(self, features_and_outputs, return_type: str = FULL_TEXT, clean_up_tokenization_spaces=None,
                    skip_special_tokens: bool = True, **_) -> list[dict]:  # fmt: skip
        """One prompt's ``(n, total_len)`` sequences -> n dicts.

        The new tokens start after the padded prompt (all prompts of a batch end in the same column);
        token ids are returned whole, left padding included, as transformers does."""
        [(feature, outputs)] = features_and_outputs
        sequences = np.asarray(outputs["generated_sequence"])
        if return_type == TENSORS:
            return [{"generated_token_ids": row.tolist()} for row in sequences]
        # New tokens start after the padded prompt; an empty prompt's bos token goes with them (as transformers,
        # which then drops it when decoding skips special tokens).
        start = outputs["prompt_length"] - (1 if feature["from_bos"] else 0)
        texts = [self.tokenizer.decode(row[start:].tolist(), skip_special_tokens=skip_special_tokens,
                                       clean_up_tokenization_spaces=clean_up_tokenization_spaces)
                 for row in sequences]  # fmt: skip
        if return_type == FULL_TEXT:
            prompt = feature["prompt_text"]
            if isinstance(prompt, str):
                texts = [prompt + text for text in texts]
            elif feature["continue_final_message"]:  # the reply continues the final message
                texts = [prompt[:-1] + [{"role": prompt[-1]["role"], "content": prompt[-1]["content"] + text}]
                         for text in texts]
            else:  # the reply is a new assistant message
                texts = [prompt + [{"role": "assistant", "content": text}] for text in texts]
        return [{"generated_text": text} for text in texts]


def is_chat(inputs) -> bool:
    """A chat: a non-empty list of {"role": ..., "content": ...} messages."""
    return (isinstance(inputs, list) and bool(inputs)
            and all(isinstance(m, dict) and "role" in m and "content" in m for m in inputs))  # fmt: skip
