"""Tokenizers: text -> ids and back, matching transformers output exactly."""

# The `tokenizers` library's building blocks (`from nanohf.tokenizers import trainers` imports that module on demand).
from . import decoders, models, normalizers, pre_tokenizers, processors
from .added_vocabulary import AddedToken
from .auto import AutoTokenizer, DistilBertTokenizer, DistilBertTokenizerFast
from .base import PreTrainedTokenizerBase
from .batch import BatchEncoding, CharSpan, TokenSpan
from .bpe import GPT2Tokenizer, GPT2TokenizerFast
from .encoding import Encoding
from .pattern import Regex
from .roberta import RobertaTokenizer, RobertaTokenizerFast
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
    "Regex",
    "RobertaTokenizer",
    "RobertaTokenizerFast",
    "TokenSpan",
    "Tokenizer",
    "WordpieceTokenizer",
    # the `tokenizers` library's building blocks
    "decoders",
    "models",
    "normalizers",
    "pre_tokenizers",
    "processors",
]
