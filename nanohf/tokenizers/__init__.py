"""Tokenizers: text -> ids and back, matching transformers output exactly."""

# The `tokenizers` library's building blocks (`from nanohf.tokenizers import trainers` imports that module on demand).
from . import decoders, models, normalizers, pre_tokenizers, processors
from .added_vocabulary import AddedToken
from .auto import AutoTokenizer, DistilBertTokenizer, DistilBertTokenizerFast
from .base import PreTrainedTokenizerBase
from .batch import BatchEncoding, CharSpan, TokenSpan
from .bpe import GPT2Tokenizer, GPT2TokenizerFast
from .encoding import Encoding
from .fast import PreTrainedTokenizerFast
from .pattern import Regex
from .qwen2 import Qwen2Tokenizer, Qwen2TokenizerFast
from .roberta import RobertaTokenizer, RobertaTokenizerFast
from .sentencepiece_family import (
    AlbertTokenizer,
    AlbertTokenizerFast,
    LlamaTokenizer,
    LlamaTokenizerFast,
    T5Tokenizer,
    T5TokenizerFast,
    XLMRobertaTokenizer,
    XLMRobertaTokenizerFast,
    XLNetTokenizer,
    XLNetTokenizerFast,
)
from .tokenizer import Tokenizer
from .wordpiece import BasicTokenizer, BertTokenizer, BertTokenizerFast, WordpieceTokenizer

__all__ = [
    "AddedToken",
    "AutoTokenizer",
    "BasicTokenizer",
    "BatchEncoding",
    "BertTokenizer",
    "BertTokenizerFast",
    "CharSpan",
    "DistilBertTokenizer",
    "DistilBertTokenizerFast",
    "Encoding",
    "GPT2Tokenizer",
    "GPT2TokenizerFast",
    "PreTrainedTokenizerBase",
    "PreTrainedTokenizerFast",
    "Qwen2Tokenizer",
    "Qwen2TokenizerFast",
    "Regex",
    "RobertaTokenizer",
    "RobertaTokenizerFast",
    "TokenSpan",
    "Tokenizer",
    "WordpieceTokenizer",
    "AlbertTokenizer",
    "AlbertTokenizerFast",
    "LlamaTokenizer",
    "LlamaTokenizerFast",
    "T5Tokenizer",
    "T5TokenizerFast",
    "XLMRobertaTokenizer",
    "XLMRobertaTokenizerFast",
    "XLNetTokenizer",
    "XLNetTokenizerFast",
    # the `tokenizers` library's building blocks
    "decoders",
    "models",
    "normalizers",
    "pre_tokenizers",
    "processors",
]
