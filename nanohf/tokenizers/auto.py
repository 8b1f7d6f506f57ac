"""AutoTokenizer: pick the tokenizer class a checkpoint asks for.

The class comes from ``tokenizer_config.json`` (``"tokenizer_class"``), else from the model's
``config.json`` (``model_type``), else from the vocabulary files present. DistilBERT uses BERT's
WordPiece but has no segment embeddings, so its tokenizer returns no ``token_type_ids`` (its
``model_input_names`` say so).
"""

import os
from pathlib import Path

from nanohf.models.hub import resolve_checkpoint_dir
from nanohf.tokenizers.base import read_json
from nanohf.tokenizers.bpe import GPT2Tokenizer
from nanohf.tokenizers.fast import SENTENCEPIECE_FILES, PreTrainedTokenizerFast
from nanohf.tokenizers.loading import read_config
from nanohf.tokenizers.qwen2 import Qwen2Tokenizer
from nanohf.tokenizers.roberta import RobertaTokenizer
from nanohf.tokenizers.sentencepiece_family import (
    AlbertTokenizer,
    LlamaTokenizer,
    T5Tokenizer,
    XLMRobertaTokenizer,
    XLNetTokenizer,
)
from nanohf.tokenizers.wordpiece import BertTokenizer


class DistilBertTokenizer(BertTokenizer):
    model_input_names = ["input_ids", "attention_mask"]


DistilBertTokenizerFast = DistilBertTokenizer  # one class, two names, as in transformers 5


TOKENIZER_CLASSES = {
    "BertTokenizer": BertTokenizer,
    "BertTokenizerFast": BertTokenizer,
    "DistilBertTokenizer": DistilBertTokenizer,
    "DistilBertTokenizerFast": DistilBertTokenizer,
    "GPT2Tokenizer": GPT2Tokenizer,
    "GPT2TokenizerFast": GPT2Tokenizer,
    "RobertaTokenizer": RobertaTokenizer,
    "RobertaTokenizerFast": RobertaTokenizer,
    "BartTokenizer": RobertaTokenizer,  # BART's tokenizer is RoBERTa's byte-level BPE
    "BartTokenizerFast": RobertaTokenizer,
    # any tokenizer.json, through the `tokenizers` library re-telling (fast.py, sentencepiece_family.py)
    "PreTrainedTokenizerFast": PreTrainedTokenizerFast,
    "TokenizersBackend": PreTrainedTokenizerFast,
}
for _cls in (T5Tokenizer, AlbertTokenizer, XLNetTokenizer, XLMRobertaTokenizer, LlamaTokenizer, Qwen2Tokenizer):
    TOKENIZER_CLASSES[_cls.__name__] = TOKENIZER_CLASSES[_cls.__name__ + "Fast"] = _cls
MODEL_TYPE_TO_TOKENIZER = {"bert": BertTokenizer, "distilbert": DistilBertTokenizer, "gpt2": GPT2Tokenizer,
                           "roberta": RobertaTokenizer, "bart": RobertaTokenizer, "t5": T5Tokenizer,
                           "albert": AlbertTokenizer, "xlnet": XLNetTokenizer, "xlm-roberta": XLMRobertaTokenizer}


class AutoTokenizer:
    def __init__(self):
        raise OSError("AutoTokenizer is built with AutoTokenizer.from_pretrained(folder)")

    @staticmethod
    def from_pretrained(name_or_path: str | os.PathLike, **kwargs):
        """The tokenizer of a folder (or a name in the local Hugging Face cache). Keyword arguments go to the
        tokenizer's from_pretrained (model_max_length=, pad_token=, ...); use_fast=, cache_dir=, revision=,
        trust_remote_code=, ... are accepted and change nothing; subfolder= looks inside the folder."""
        folder = resolve_checkpoint_dir(name_or_path)
        if kwargs.get("subfolder"):
            folder = Path(folder) / kwargs.pop("subfolder")
        tokenizer_class = _tokenizer_class(Path(folder))
        return tokenizer_class.from_pretrained(folder, **kwargs)


def _has_byte_level(tokenizer_json: dict) -> bool:
    """Whether any component of a tokenizer.json is a ByteLevel one (a Llama-3-style file)."""
    stack = [tokenizer_json.get(key) for key in ("normalizer", "pre_tokenizer", "post_processor", "decoder")]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "ByteLevel":
                return True
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
    return False


def _decoder_family_class(folder: Path, model_type, name) -> type | None:
    """The class transformers 5 picks for the Llama / Mistral / Qwen2 families (None: not one of them).

    Their hub files disagree with their code often, so transformers decides by model type first: a Mistral
    folder runs its tokenizer.json as is (TokenizersBackend, when mistral_common is not installed), a Qwen2
    folder always gets Qwen2Tokenizer; a folder naming LlamaTokenizer whose tokenizer.json is byte-level (Llama
    3) runs the file as is too, since LlamaTokenizer would rebuild it as SentencePiece (Metaspace)."""
    if model_type == "mistral":
        return PreTrainedTokenizerFast
    if model_type == "qwen2" or name in ("Qwen2Tokenizer", "Qwen2TokenizerFast"):
        return Qwen2Tokenizer
    if name in ("LlamaTokenizer", "LlamaTokenizerFast"):
        return PreTrainedTokenizerFast if _has_byte_level(read_json(folder, "tokenizer.json")) else LlamaTokenizer
    if model_type == "llama":  # transformers 5 registers no tokenizer for llama: the named class, else the file
        return TOKENIZER_CLASSES.get(name, PreTrainedTokenizerFast)
    return None


def _tokenizer_class(folder: Path) -> type:
    model_type = read_json(folder, "config.json").get("model_type")
    name = read_config(folder).get("tokenizer_class")  # both config files checked here, before any class runs
    family = _decoder_family_class(folder, model_type, name)
    if family is not None:
        return family
    if name is not None and name not in TOKENIZER_CLASSES and model_type not in MODEL_TYPE_TO_TOKENIZER:
        raise ValueError(
            f"{folder / 'tokenizer_config.json'}: tokenizer_class {name!r} is not supported; nanohf knows "
            f"{sorted(TOKENIZER_CLASSES)}"
        )
    # The model type decides BERT vs DistilBERT inputs (a DistilBERT checkpoint often names BertTokenizer).
    if model_type in MODEL_TYPE_TO_TOKENIZER:
        return MODEL_TYPE_TO_TOKENIZER[model_type]
    if name in TOKENIZER_CLASSES:
        return TOKENIZER_CLASSES[name]
    tokenizer_json = read_json(folder, "tokenizer.json")
    if name is None and tokenizer_json:  # no class named: transformers 5 runs the file (TokenizersBackend)
        return PreTrainedTokenizerFast
    if any((folder / f).is_file() for f in ("vocab.json", "encoder.json")):
        return GPT2Tokenizer
    model = (tokenizer_json.get("model") or {}).get("type")
    if model == "BPE" and (tokenizer_json.get("pre_tokenizer") or {}).get("type") == "ByteLevel":
        return GPT2Tokenizer
    if (folder / "vocab.txt").is_file() or model == "WordPiece":
        return BertTokenizer
    if tokenizer_json:  # any other pipeline: run the file itself, as transformers' TokenizersBackend does
        return PreTrainedTokenizerFast
    spm = [f for f in SENTENCEPIECE_FILES if (folder / f).is_file()]
    if spm:
        raise OSError(f"{folder} has a SentencePiece model ({', '.join(spm)}) but no tokenizer.json; nanohf reads "
                      "tokenizer.json only: convert it once with transformers (AutoTokenizer.from_pretrained(folder)"
                      ".save_pretrained(folder) writes tokenizer.json), then load the folder again")
    raise FileNotFoundError(f"{folder} has no tokenizer files (tokenizer_config.json, vocab.txt, vocab.json, "
                            "tokenizer.json)")
