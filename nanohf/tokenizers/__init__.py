"""Tokenizers: text -> ids and back, matching transformers output exactly."""

from .auto import AutoTokenizer, DistilBertTokenizer
from .base import BatchEncoding, PreTrainedTokenizerBase
from .wordpiece import BasicTokenizer, BertTokenizer, WordpieceTokenizer

__all__ = [
    "AutoTokenizer",
    "BasicTokenizer",
    "BatchEncoding",
    "BertTokenizer",
    "DistilBertTokenizer",
    "PreTrainedTokenizerBase",
    "WordpieceTokenizer",
]
