"""Tokenizers: text -> ids and back, matching transformers output exactly."""

from .added_vocabulary import AddedToken
from .auto import AutoTokenizer, DistilBertTokenizer, DistilBertTokenizerFast
from .base import PreTrainedTokenizerBase
from .batch import BatchEncoding, CharSpan, TokenSpan
from .bpe import GPT2Tokenizer, GPT2TokenizerFast
from .encoding import Encoding
from .roberta import RobertaTokenizer, RobertaTokenizerFast
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
    "RobertaTokenizer",
    "RobertaTokenizerFast",
    "TokenSpan",
    "WordpieceTokenizer",
]
