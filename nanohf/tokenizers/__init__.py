"""Tokenizers: text -> ids and back, matching transformers output exactly."""

from .auto import AutoTokenizer, DistilBertTokenizer
from .base import PreTrainedTokenizerBase
from .batch import BatchEncoding, CharSpan, TokenSpan
from .bpe import GPT2Tokenizer
from .encoding import Encoding
from .roberta import RobertaTokenizer
from .wordpiece import BasicTokenizer, BertTokenizer, WordpieceTokenizer

__all__ = [
    "AutoTokenizer",
    "BasicTokenizer",
    "BatchEncoding",
    "BertTokenizer",
    "CharSpan",
    "DistilBertTokenizer",
    "Encoding",
    "GPT2Tokenizer",
    "PreTrainedTokenizerBase",
    "RobertaTokenizer",
    "TokenSpan",
    "WordpieceTokenizer",
]
