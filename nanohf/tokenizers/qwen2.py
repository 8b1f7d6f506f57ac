"""Qwen2Tokenizer: Qwen2's byte-level BPE, as transformers 5 builds it (models/qwen2/tokenization_qwen2.py).

Like GPT-2's, every byte of the text is a printable character before BPE runs, so no text is ever unknown. Two
things differ from GPT-2's pipeline, and the class builds them itself around the vocabulary of tokenizer.json:

    normalizer     NFC (composed characters: "e" + U+0301 becomes "é" before splitting)
    pre-tokenizer  Split(PRETOKENIZE_REGEX, "isolated") then ByteLevel(add_prefix_space=False, use_regex=False):
                   the split is Qwen2's own regex (digits one by one, letters with one leading non-letter);
                   ByteLevel only maps bytes to characters
    decoder        ByteLevel
    post-processor the file's (Qwen2 adds no bos), or "$A" when the file has none

`AutoTokenizer` picks it for every `model_type: "qwen2"` folder, whatever tokenizer_config.json names, as
transformers 5 does (qwen2 is in its list of checkpoints whose hub tokenizer_class is not to be trusted).
"""

from . import decoders, models, normalizers, pre_tokenizers
from .fast import PreTrainedTokenizerFast
from .pattern import Regex
from .tokenizer import Tokenizer

# Contractions (any case), letters with at most one leading non-letter, single digits, punctuation runs with the
# newlines after them, newline runs, then whitespace (not eating the space before a word).
PRETOKENIZE_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                     r"|\s*[\r\n]+|\s+(?!\S)|\s+")


class Qwen2Tokenizer(PreTrainedTokenizerFast):
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(self, *, tokenizer_object=None, tokenizer_file=None, unk_token="<|endoftext|>", bos_token=None,
                 eos_token="<|endoftext|>", pad_token="<|endoftext|>", add_prefix_space=None, **kwargs):
        source = tokenizer_object if tokenizer_object is not None else (
            None if tokenizer_file is None else Tokenizer.from_file(tokenizer_file))
        if source is None:
            vocab, merges = {"<|endoftext|>": 0}, []
        elif isinstance(source.model, models.BPE):
            vocab, merges = source.model.vocab, source.model.merges
        else:
            raise ValueError(f"Qwen2Tokenizer expects a BPE tokenizer.json, got a {type(source.model).__name__} model")
        self.add_prefix_space = bool(add_prefix_space)
        tok = Tokenizer(models.BPE(vocab, merges, unk_token=None, continuing_subword_prefix="",
                                   end_of_word_suffix="", fuse_unk=False, byte_fallback=False))
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), "isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=self.add_prefix_space, use_regex=False)])
        tok.decoder = decoders.ByteLevel()
        tok.post_processor = None if source is None else source.post_processor
        if source is not None and "added_tokens" not in kwargs:  # the file's added tokens keep their ids
            kwargs["added_tokens"] = list(source.get_added_tokens_decoder().items())
        super().__init__(tokenizer_object=tok, unk_token=unk_token, bos_token=bos_token, eos_token=eos_token,
                         pad_token=pad_token, **kwargs)

    @classmethod
    def _class_settings(cls, config: dict) -> dict:
        return {key: config[key] for key in ("add_prefix_space",) if key in config}

    def tokenizer_config(self):
        return {**super().tokenizer_config(), "add_prefix_space": self.add_prefix_space}


Qwen2TokenizerFast = Qwen2Tokenizer  # one class, two names, as in transformers 5

__all__ = ["Qwen2Tokenizer", "Qwen2TokenizerFast"]
