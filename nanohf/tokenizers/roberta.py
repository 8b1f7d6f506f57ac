"""RoBERTa's tokenizer: GPT-2's byte-level BPE with BERT-like special tokens.

    "Hello world", "How are you"  -->  <s> Hello Ġworld </s> </s> How Ġare Ġyou </s>

What differs from GPT2Tokenizer (transformers 5 runs it through `tokenizers`' RobertaProcessing):

- the template: ``<s> A </s>`` and ``<s> A </s></s> B </s>``; every token_type_id is 0;
- trim_offsets (default on): a token's character span leaves out the spaces it carries ("Ġworld" in
  "Hello world" spans (6, 11), not (5, 11)) -- except the one space add_prefix_space put before the first
  token of a sequence, whose span already starts at the first character;
- special tokens may be "lstrip"/"rstrip" (roberta-base's ``<mask>`` is lstrip): typed in the text, they
  swallow the whitespace next to them, so "Paris is the <mask>." has no "Ġ" token before the mask.
"""

from .added_vocabulary import WHITESPACE
from .bpe import GPT2Tokenizer
from .encoding import Encoding
from .loading import read_config

# Characters a trimmed span leaves out: whitespace, and "Ġ", byte-level BPE's picture of a space.
SPACE_LIKE = WHITESPACE + "Ġ"


def trim_offsets(encoding: Encoding, add_prefix_space: bool) -> None:
    """Shrink each token's (start, end) by the spaces at either end of the token string, as `tokenizers`'
    ByteLevel offset processing does; overflow windows (whose first token counts as first) alike."""
    offsets = []
    for i, (token, (start, end)) in enumerate(zip(encoding.tokens, encoding.offsets, strict=True)):
        leading = len(token) - len(token.lstrip(SPACE_LIKE))
        trailing = len(token) - len(token.rstrip(SPACE_LIKE))
        # The space add_prefix_space inserted maps onto the first character: there is nothing to skip.
        if leading and not (add_prefix_space and leading == 1 and (i == 0 or start == 0)):
            start = min(start + leading, end)
        if trailing and end >= trailing:
            end = max(end - trailing, start)
        offsets.append((start, end))
    encoding.offsets = offsets
    for window in encoding.overflowing:
        trim_offsets(window, add_prefix_space)


class RobertaTokenizer(GPT2Tokenizer):
    """RoBERTa's tokenizer, producing what transformers' RobertaTokenizer (RobertaTokenizerFast) produces.

    Args:
        vocab_file, merges_file (or vocab=, merges=): as for GPT2Tokenizer.
        bos_token, eos_token, sep_token, cls_token, unk_token, pad_token, mask_token: "<s>", "</s>", "</s>",
            "<s>", "<unk>", "<pad>", "<mask>". Each may also be a dict or tokenizers.AddedToken with
            lstrip/rstrip: such a token typed in the text takes the whitespace on that side with it.
        add_prefix_space: encode the first word like any other ("Hello" -> "ĠHello"); needed for
            is_split_into_words input.
        trim_offsets: offsets leave out the spaces a token carries (True, as in transformers).
        **kwargs: errors, model_max_length, padding_side, ... (see GPT2Tokenizer and the base class).

    Usage:
        tok = RobertaTokenizer.from_pretrained("path/to/roberta-base")
        tok("Hello world").input_ids  # [0, 31414, 232, 2]
    """

    model_input_names = ["input_ids", "attention_mask"]

    def __init__(self, vocab_file=None, merges_file=None, errors="replace", bos_token="<s>", eos_token="</s>",
                 sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                 add_prefix_space=False, trim_offsets=True, **kwargs):
        super().__init__(vocab_file, merges_file, errors=errors, add_prefix_space=add_prefix_space,
                         bos_token=bos_token, eos_token=eos_token, sep_token=sep_token, cls_token=cls_token,
                         unk_token=unk_token, pad_token=pad_token, mask_token=mask_token, **kwargs)
        self.trim_offsets = trim_offsets

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """As GPT2Tokenizer.from_pretrained, plus trim_offsets. (The lstrip/rstrip of special tokens comes with
        the added tokens of tokenizer.json or tokenizer_config.json's added_tokens_decoder.)"""
        folder = cls._loading_folder(pretrained_model_name_or_path, kwargs)
        config = read_config(folder)
        settings = {"trim_offsets": config["trim_offsets"]} if "trim_offsets" in config else {}
        return super().from_pretrained(folder, **{**settings, **kwargs})

    # ------------------------------------------------------------------ special tokens
    def _template(self, pair):
        first = [(self.cls_token, 0), (0, 0), (self.sep_token, 0)]
        return first + [(self.sep_token, 0), (1, 0), (self.sep_token, 0)] if pair else first

    def _post_process(self, first, second, add_special_tokens):
        if self.trim_offsets:
            for encoding in (first, second):
                if encoding is not None:
                    trim_offsets(encoding, self.add_prefix_space)
        return super()._post_process(first, second, add_special_tokens)

    def _backend_post_processor(self):
        return {"type": "RobertaProcessing", "sep": [self.sep_token, self.sep_token_id],
                "cls": [self.cls_token, self.cls_token_id], "trim_offsets": self.trim_offsets,
                "add_prefix_space": self.add_prefix_space}

    # ------------------------------------------------------------------ saving
    def tokenizer_config(self):
        return {**super().tokenizer_config(), "trim_offsets": self.trim_offsets}


# transformers 5 has only fast tokenizers: RobertaTokenizerFast is another name of the same class.
RobertaTokenizerFast = RobertaTokenizer
