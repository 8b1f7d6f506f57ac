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

import re

from .base import read_json
from .bpe import GPT2Tokenizer
from .encoding import Encoding

# What `tokenizers` (Rust's char::is_whitespace, Unicode White_Space) counts as whitespace. Python's str.isspace
# would also take \x1c-\x1f, which Rust does not.
WHITESPACE = ("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
              "\u2028\u2029\u202f\u205f\u3000")
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


def _token_and_flags(value):
    """A special token given as "<mask>", {"content": "<mask>", "lstrip": True, ...} (tokenizer files) or an
    object with .content/.lstrip/.rstrip (tokenizers.AddedToken) -> (content, lstrip, rstrip)."""
    if value is None or isinstance(value, str):
        return value, False, False
    if isinstance(value, dict):
        return value["content"], bool(value.get("lstrip")), bool(value.get("rstrip"))
    return value.content, bool(value.lstrip), bool(value.rstrip)


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
        named = dict(bos_token=bos_token, eos_token=eos_token, sep_token=sep_token, cls_token=cls_token,
                     unk_token=unk_token, pad_token=pad_token, mask_token=mask_token)
        self.strip_flags = {}  # special token -> (lstrip, rstrip), for the tokens that strip at all
        for name, value in named.items():
            content, lstrip, rstrip = _token_and_flags(value)
            named[name] = content
            if lstrip or rstrip:
                self.strip_flags[content] = (lstrip, rstrip)
        super().__init__(vocab_file, merges_file, errors=errors, add_prefix_space=add_prefix_space, **named,
                         **kwargs)
        self.trim_offsets = trim_offsets
        self._strip_pattern = self._special_tokens_pattern()

    @classmethod
    def from_pretrained(cls, folder, **kwargs):
        """As GPT2Tokenizer.from_pretrained, plus trim_offsets and the lstrip/rstrip of special tokens
        (tokenizer.json's added_tokens, or tokenizer_config.json's added_tokens_decoder)."""
        settings = {}
        config = read_json(folder, "tokenizer_config.json")
        if "trim_offsets" in config:
            settings["trim_offsets"] = config["trim_offsets"]
        added = {t["content"]: t for t in read_json(folder, "tokenizer.json").get("added_tokens", [])}
        added.update({t["content"]: t for t in config.get("added_tokens_decoder", {}).values()})
        config.update(read_json(folder, "special_tokens_map.json"))
        for name in ("bos_token", "eos_token", "sep_token", "cls_token", "unk_token", "pad_token", "mask_token"):
            value = config.get(name)
            content = value["content"] if isinstance(value, dict) else value
            if content in added and (added[content].get("lstrip") or added[content].get("rstrip")):
                settings[name] = added[content]
            elif isinstance(value, dict):
                settings[name] = value
        return super().from_pretrained(folder, **{**settings, **kwargs})

    # ------------------------------------------------------------------ special tokens
    def _template(self, pair):
        first = [(self.cls_token, 0), (0, 0), (self.sep_token, 0)]
        return first + [(self.sep_token, 0), (1, 0), (self.sep_token, 0)] if pair else first

    def _special_tokens_pattern(self):
        """One regex for every special token, with the whitespace a stripping token takes on either side."""
        space = f"[{re.escape(WHITESPACE)}]*"
        alternatives = []
        for token in sorted(self.all_special_tokens, key=len, reverse=True):
            lstrip, rstrip = self.strip_flags.get(token, (False, False))
            alternatives.append((space if lstrip else "") + re.escape(token) + (space if rstrip else ""))
        return re.compile("|".join(alternatives)) if alternatives else None

    def _split_special_tokens(self, text):
        """As the base class, but a stripping token's piece includes its whitespace (so its token string and
        offsets do too, as in `tokenizers`; trim_offsets then drops the whitespace from the offsets)."""
        if not self.strip_flags:
            return super()._split_special_tokens(text)
        pieces, start = [], 0
        for match in self._strip_pattern.finditer(text):
            pieces.append((text[start:match.start()], start, None))
            pieces.append((match.group(), match.start(), self.convert_tokens_to_ids(match.group().strip(WHITESPACE))))
            start = match.end()
        pieces.append((text[start:], start, None))
        return pieces

    def _post_process(self, first, second, add_special_tokens):
        if self.trim_offsets:
            for encoding in (first, second):
                if encoding is not None:
                    trim_offsets(encoding, self.add_prefix_space)
        return super()._post_process(first, second, add_special_tokens)

    # ------------------------------------------------------------------ saving
    def tokenizer_config(self):
        """Adds trim_offsets, and the stripping special tokens as transformers writes them (so that
        transformers' AutoTokenizer loads the same behaviour)."""
        config = {**super().tokenizer_config(), "trim_offsets": self.trim_offsets}
        if self.strip_flags:
            config["added_tokens_decoder"] = {
                str(self.convert_tokens_to_ids(token)): {"content": token, "lstrip": lstrip, "rstrip": rstrip,
                                                         "normalized": False, "single_word": False, "special": True}
                for token, (lstrip, rstrip) in self.strip_flags.items()}
        return config
