"""What every tokenizer shares: special tokens, the vocabulary, `__call__`, `pad`, decoding and saving.

A call runs the same pipeline for every model, the one of the Rust `tokenizers` library behind transformers 5:

    text --split off special tokens typed in it ("[MASK]", "<|endoftext|>")
         --_words(): normalise + pre-tokenise + model, per word, cached--> tokens with ids and offsets
         --truncate (with overflow windows)--> --template: add [CLS]/[SEP], join a pair-->
         --pad the batch--> BatchEncoding

A concrete tokenizer (WordPiece for BERT, byte-level BPE for GPT-2) provides `_words` (plain text -> words,
each with its tokens), `_template` (where special tokens go) and `convert_tokens_to_string`.
"""

import gc
import json
import os
from contextlib import contextmanager

import numpy as np

from nanohf.models.hub import remove_orphaned_temporaries, write_atomically

from .added_vocabulary import AddedToken, AddedVocabulary, as_added_token
from .backend import follow_call, tokenizer_json
from .batch import BatchEncoding
from .chat_template import ChatTemplateMixin, as_template_value, save_chat_templates
from .encoding import Encoding, pad_batch, truncate_pair
from .loading import common_settings, loading_folder, read_json, token_content  # noqa: F401 (re-exported)
from .padding import VERY_LARGE_INTEGER, check_text_input, pad, resolve_strategies
from .special_tokens import SPECIAL_TOKEN_NAMES, SpecialTokensMixin

# Words kept in a tokenizer's cache before it starts over: bounds the memory on huge corpora, while common
# words come back after a reset within a few sentences.
WORD_CACHE_SIZE = 100_000


@contextmanager
def cycle_collector_paused():
    """Pause Python's cycle collector while a batch is encoded.

    A batch builds hundreds of thousands of small lists and tuples (columns, offsets), none of them in a
    reference cycle. As they pile up, the collector runs again and again and walks all of them: it took
    two thirds of the time of encoding 5,000 SST-2 sentences (476 ms -> 155 ms without it). Reference
    counting still frees everything as usual; the collector resumes, if it was on, when the batch is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class PreTrainedTokenizerBase(SpecialTokensMixin, ChatTemplateMixin):
    """Vocabulary bookkeeping plus the whole `__call__` pipeline; subclasses provide the tokenization itself.

    nanohf's tokenizers are what transformers 5 calls fast tokenizers (`is_fast` is True; `BertTokenizerFast`
    is another name of `BertTokenizer`, as there): token-level information (offsets, word ids, sequence ids)
    comes with every call.

    Args:
        vocab: {token: id} of the model's base vocabulary.
        model_max_length: longest input the model accepts; the default for `max_length` when truncating
            or padding to "max_length" (VERY_LARGE_INTEGER means "no limit", as in transformers).
        clean_up_tokenization_spaces: whether `decode` also removes spaces before punctuation.
        extra_special_tokens (or its old name additional_special_tokens): more special tokens (str or
            AddedToken): never split, skipped when decoding.
        padding_side, truncation_side: "right" (default) or "left": where padding goes, which end is cut.
        model_input_names: the inputs the model takes (decides whether token_type_ids are returned).
        added_tokens: [(id, AddedToken)] read from a tokenizer folder (tokenizer.json's added_tokens,
            tokenizer_config.json's added_tokens_decoder).
        **kwargs: unk_token, sep_token, pad_token, cls_token, mask_token, bos_token, eos_token (str, dict or
            AddedToken); any other keyword is kept in `init_kwargs` and otherwise ignored, as transformers does.
    """

    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]
    padding_side = "right"
    truncation_side = "right"
    pad_token_type_id = 0

    def __init__(self, vocab, model_max_length=None, clean_up_tokenization_spaces=False, extra_special_tokens=None,
                 padding_side=None, truncation_side=None, model_input_names=None, added_tokens=None, **kwargs):
        if extra_special_tokens is None:
            extra_special_tokens = kwargs.pop("additional_special_tokens", None)
        named = {name: kwargs.pop(name, None) for name in SPECIAL_TOKEN_NAMES}
        if model_max_length is None:
            model_max_length = kwargs.pop("max_len", None)
        # True: special tokens typed in the text are encoded as text (`tokenizers`' encode_special_tokens)
        self.split_special_tokens = bool(kwargs.pop("split_special_tokens", False))
        self._splitting_special_tokens = False
        # a Jinja source, or {name: source} (chat_template.py); rendered by apply_chat_template
        self.chat_template = as_template_value(kwargs.pop("chat_template", None))
        self.name_or_path = str(kwargs.pop("name_or_path", ""))  # the name or folder it was loaded from
        # transformers keeps the keywords it has no use for (return_tensors=, use_fast=, ...) and goes on.
        self.init_kwargs = dict(kwargs)
        self.model_max_length = VERY_LARGE_INTEGER if model_max_length is None else model_max_length
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        for name, value in (("padding_side", padding_side), ("truncation_side", truncation_side)):
            if value is not None:
                if value not in ("left", "right"):
                    raise ValueError(f"{name} should be 'right' or 'left', not {value!r}")
                setattr(self, name, value)
        if model_input_names is not None:
            self.model_input_names = list(model_input_names)

        self.vocab = dict(vocab)
        # {id: token}, built on first use (see ids_to_tokens); "cache" keeps it out of dataset fingerprints
        self._ids_to_tokens_cache = None
        self._cache = {}  # word -> (ids, tokens, spans): most words recur, so each is tokenized once
        self._special_encodings = {}
        self._special_tokens = {}
        self._extra_special_tokens = []
        self.added_vocab = AddedVocabulary(self._normalize_str if self.has_normalizer else None)
        # A folder's added tokens come with their ids; special tokens not in it (nor in the vocabulary) get
        # the next ids, named ones first, as transformers' added tokens do. A listed token that is already in
        # the vocabulary keeps its vocabulary id, whatever id the file gives it (the Rust tokenizer's rule).
        following = None  # the next id after the vocabulary and the tokens added so far (found when needed)
        for token_id, listed in added_tokens or ():
            token = as_added_token(listed, special=False)
            token_id = self.vocab.get(token.content, int(token_id))
            if isinstance(listed, dict) and "file" in listed and token.content not in self.vocab:
                # A legacy added_tokens.json lists tokens added after the vocabulary, in order: an id that does
                # not follow on means the vocabulary file is not the one it was written with.
                if following is None:
                    following = max([*self.vocab.values(), *self.added_vocab.decoder], default=-1) + 1
                if token_id != following:
                    raise ValueError(f"{listed['file']}: {token.content!r:.40} has id {token_id}, but the next id "
                                     f"after the vocabulary and the tokens before it is {following}: the vocabulary "
                                     f"({listed.get('vocabulary')}) does not match it")
            self.added_vocab.set(token_id, token)
            if following is not None:
                following = max(following, token_id + 1)
        specials = []
        for name, value in named.items():
            if value is not None:
                setattr(self, name, value)
                specials.append(value)
        for value in extra_special_tokens or ():
            self._extra_special_tokens.append(str(as_added_token(value, special=True)))
            specials.append(value)
        self.added_vocab.add([self._special_added_token(value) for value in specials], self.vocab)

    def _special_added_token(self, value):
        """A special token given as a plain string keeps the flags a tokenizer file gave it (RoBERTa's lstrip
        <mask>); given as a dict or AddedToken, its own flags win."""
        if isinstance(value, str) and value in self.added_vocab.encoder:
            token = self.added_vocab.decoder[self.added_vocab.encoder[value]]
            return AddedToken(*token._fields()[:5], special=True)
        token = as_added_token(value, special=True)
        token.special = True
        return token

    # ------------------------------------------------------------------ normalisation (for added tokens)
    has_normalizer = False

    def _normalize_str(self, text):
        """The tokenizer's normaliser as str -> str (subclasses with one override this and has_normalizer)."""
        return text

    def _normalize_with_alignment(self, text):
        """(normalised text, for each of its characters the index in `text` it came from); None: unchanged."""
        return text, None

    @property
    def is_fast(self) -> bool:
        """True: every call carries token-level information (offsets, word ids), as transformers' fast tokenizers."""
        return True

    def train_new_from_iterator(self, text_iterator, vocab_size, length=None, new_special_tokens=None,
                                special_tokens_map=None, **kwargs):
        """A tokenizer of this class and settings with a vocabulary learnt from new text (see retrain.py)."""
        from .retrain import train_new_from_iterator

        return train_new_from_iterator(self, text_iterator, vocab_size, length=length,
                                       new_special_tokens=new_special_tokens,
                                       special_tokens_map=special_tokens_map, **kwargs)

    # ------------------------------------------------------------------ hooks for subclasses
    def _words(self, text):
        """Plain text (no special tokens in it) -> list of (entry, where), one per word, where entry is
        (ids, tokens, spans) of the word's tokens, spans being (start, end) character ranges inside the
        word, and `where` locates the word in `text`: an int (its start; characters map one to one) or a
        tuple giving, for each character of the word, the index of the character of `text` it came from.
        """
        raise NotImplementedError

    def _template(self, pair):
        """Where special tokens go: a list of (piece, type_id), piece being 0 (first text), 1 (second text)
        or a special token string. BERT: [("[CLS]", 0), (0, 0), ("[SEP]", 0)] (+ [(1, 1), ("[SEP]", 1)])."""
        return [(0, 0), (1, 1)] if pair else [(0, 0)]

    def _checked_template(self, pair):
        """`_template(pair)`, refusing one whose special token is None (passed as None, or null in the files)."""
        template = self._template(pair)
        if any(piece is None for piece, _ in template):
            raise ValueError(f"{type(self).__name__}: a special token of its template {template} is None; it was "
                             "passed as None or set to null in tokenizer_config.json or special_tokens_map.json")
        return template

    def convert_tokens_to_string(self, tokens):
        """List of tokens -> readable text."""
        raise NotImplementedError

    # ------------------------------------------------------------------ special tokens by template
    def num_special_tokens_to_add(self, pair=False):
        """How many special tokens the template adds to one text (pair=False) or a pair."""
        return sum(isinstance(piece, str) for piece, _ in self._checked_template(pair))

    def _apply_template(self, ids_0, ids_1, value_of_token, value_of_text):
        out = []
        for piece, type_id in self._checked_template(ids_1 is not None):
            if isinstance(piece, str):
                out.append(value_of_token(piece, type_id))
            else:
                out += value_of_text(ids_1 if piece else ids_0, type_id)
        return out

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        """Ids of one text (or a pair) -> model input ids, e.g. [CLS] A [SEP] B [SEP] for BERT."""
        return self._apply_template(token_ids_0, token_ids_1, lambda t, _: self.convert_tokens_to_ids(t),
                                    lambda ids, _: list(ids))

    def create_token_type_ids_from_sequences(self, token_ids_0, token_ids_1=None):
        """Segment ids aligned with `build_inputs_with_special_tokens`."""
        return self._apply_template(token_ids_0, token_ids_1, lambda _, type_id: type_id,
                                    lambda ids, type_id: [type_id] * len(ids))

    def get_special_tokens_mask(self, token_ids_0, token_ids_1=None, already_has_special_tokens=False):
        """1 for special tokens, 0 for text tokens.

        With already_has_special_tokens=True (what data collators use) `token_ids_0` is a model input and
        every id of a special token counts; otherwise the mask is the one `build_inputs_with_special_tokens`
        would produce for these ids.
        """
        if already_has_special_tokens:
            if token_ids_1 is not None:
                raise ValueError("You should not supply a second sequence if the provided sequence of ids is "
                                 "already formatted with special tokens for the model.")
            special = set(self.all_special_ids)
            return [1 if int(i) in special else 0 for i in token_ids_0]
        return self._apply_template(token_ids_0, token_ids_1, lambda *_: 1, lambda ids, _: [0] * len(ids))

    @property
    def max_len_single_sentence(self):
        return self.model_max_length - self.num_special_tokens_to_add(pair=False)

    @property
    def max_len_sentences_pair(self):
        return self.model_max_length - self.num_special_tokens_to_add(pair=True)

    # ------------------------------------------------------------------ text -> Encoding
    def _split_added(self, text):
        """Text -> [(piece, start, id, align)]: the added tokens found in it (id set) and the text between them
        (id None), as `tokenizers`' AddedVocabulary finds them: first the tokens matched in the raw text, then,
        in each remaining piece once normalised, the normalized ones. `align` is None when `piece` is
        `text[start:start + len(piece)]`; for a piece of normalised text it gives, for each of its characters,
        the index (from `start`) of the character of `text` it came from.
        """
        added = self.added_vocab
        raw = added._raw
        if added._normalized is None and (raw is None or raw[0].search(text) is None):
            return [(text, 0, None, None)]  # the usual case: nothing to cut out (checked without a call)
        skip_special = self._splitting_special_tokens
        splits = added.find(text, skip_special=skip_special)
        if splits is None:
            splits = [(None, 0, len(text))]
        pieces = []
        for token_id, start, stop in splits:
            piece = text[start:stop]
            if token_id is None and added.has_normalized and piece:
                normalized, align = self._normalize_with_alignment(piece)
                found = added.find(normalized, normalized=True, skip_special=skip_special)
                if found is not None:
                    for inner_id, a, b in found:
                        if align is None:
                            pieces.append((piece[a:b], start + a, inner_id, None))
                        else:
                            pieces.append((normalized[a:b], start, inner_id, align[a:b]))
                    continue
            pieces.append((piece, start, token_id, None))
        return pieces

    def _add_text(self, text, columns, word_index=None):
        """Append the tokens of `text` to columns = (ids, tokens, offsets, words).

        Words are numbered from 0 in order of appearance (an added token typed in the text counts as one);
        `word_index` instead gives every token the same word (is_split_into_words).
        """
        ids, tokens, offsets, words = columns
        count = 0
        for piece, start, added_id, align in self._split_added(text):
            if added_id is not None:
                ids.append(added_id)
                tokens.append(piece)
                offsets.append((start, start + len(piece)) if align is None else
                               (start + align[0], start + align[-1] + 1))
                words.append(count if word_index is None else word_index)
                count += 1
                continue
            for (piece_ids, piece_tokens, spans), where in self._words(piece):
                word = count if word_index is None else word_index
                count += 1
                if align is not None:  # normalised text: go through its alignment back to `text`
                    chars = [align[where + k] for k in range(spans[-1][1])] if where.__class__ is int else \
                        [align[k] for k in where]
                    offsets += [(start + chars[a], start + chars[b - 1] + 1) for a, b in spans]
                elif where.__class__ is int:  # characters map one to one: shift the spans
                    shift = start + where
                    if len(spans) == 1:  # most words are a single token: no small lists to build
                        ids.append(piece_ids[0])
                        tokens.append(piece_tokens[0])
                        offsets.append((shift + spans[0][0], shift + spans[0][1]))
                        words.append(word)
                        continue
                    offsets += [(shift + a, shift + b) for a, b in spans]
                else:  # look each span's first and last character up
                    offsets += [(start + where[a], start + where[b - 1] + 1) for a, b in spans]
                ids += piece_ids
                tokens += piece_tokens
                words += [word] * len(piece_ids)

    def _encode_text(self, text, is_split_into_words=False):
        """One text (a str, or a list of words) -> Encoding of its tokens, without special tokens."""
        columns = ([], [], [], [])
        if is_split_into_words:
            for i, word in enumerate(text):
                self._add_text(word, columns, word_index=i)
        else:
            self._add_text(text, columns)
        return Encoding.from_tokens(*columns)

    def _post_process(self, first, second, add_special_tokens):
        """Apply the template: set segment and sequence ids, insert special tokens, join a pair."""
        parts = []
        for piece, type_id in self._checked_template(second is not None):
            if not isinstance(piece, str):
                encoding = second if piece else first
                encoding.set_type_id(type_id)
                encoding.set_sequence_id(piece)
                parts.append(encoding)
            elif add_special_tokens:
                parts.append(self._special_encoding(piece, type_id))
        return Encoding.merge(parts)

    def _special_encoding(self, token, type_id):
        """The one-token Encoding of a template's special token (shared: merging only copies from it)."""
        # (cleared when tokens are added, the only way a token's id can change)
        encoding = self._special_encodings.get((token, type_id))
        if encoding is None:
            encoding = Encoding.special(token, self.convert_tokens_to_ids(token), type_id)
            self._special_encodings[token, type_id] = encoding
        return encoding

    def _encode(self, text, text_pair, add_special_tokens, truncation, max_length, stride, is_split_into_words):
        """One example (a text or a pair) -> the final Encoding, truncated, with special tokens."""
        first = self._encode_text(text, is_split_into_words)
        second = None if text_pair is None else self._encode_text(text_pair, is_split_into_words)
        if truncation is not None:
            budget = max_length - (self.num_special_tokens_to_add(second is not None) if add_special_tokens else 0)
            # `tokenizers` subtracts on unsigned integers: a negative budget wraps around and nothing is cut.
            if budget >= 0:
                truncate_pair(first, second, budget, truncation, stride, self.truncation_side)
        return self._post_process(first, second, add_special_tokens)

    # ------------------------------------------------------------------ the main entry point
    def __call__(self, text=None, text_pair=None, text_target=None, text_pair_target=None, *, add_special_tokens=True,
                 padding=False, truncation=None, max_length=None, stride=0, is_split_into_words=False,
                 pad_to_multiple_of=None, padding_side=None, return_tensors=None, return_token_type_ids=None,
                 return_attention_mask=None, return_overflowing_tokens=False, return_special_tokens_mask=False,
                 return_offsets_mapping=False, return_length=False, verbose=True, max_target_length=None,
                 split_special_tokens=None, tokenizer_kwargs=None, **kwargs):
        """Tokenize one text, a batch of texts, or (batches of) pairs into model inputs.

        Args:
            text: a str, a list of B strs, or with is_split_into_words=True a list of words (list of lists).
            text_pair: None, or the second texts, shaped like `text`: encoded as [CLS] A [SEP] B [SEP].
            text_target, text_pair_target: texts (and pairs) encoded the same way as labels of a sequence-to-
                sequence model: with `text` their input_ids are returned as "labels", alone they are the result.
            max_target_length: max_length for the targets (default: max_length).
            split_special_tokens: encode special tokens typed in the text as plain text (default: the
                tokenizer's split_special_tokens, False).
            tokenizer_kwargs: more of these arguments as a dict (it wins over the named ones, as in transformers).
            **kwargs: other keywords are accepted and ignored, as transformers does.
            add_special_tokens: add [CLS]/[SEP] (or whatever the model's template adds).
            padding: False/"do_not_pad", True/"longest" (to the longest in the batch) or "max_length".
            truncation: None/False, True/"longest_first", "only_first" or "only_second".
            max_length: length limit including special tokens; defaults to `model_max_length` when needed.
            stride: with return_overflowing_tokens, how many tokens consecutive windows share.
            is_split_into_words: the input is already split into words (word_ids then index those words).
            pad_to_multiple_of: round the padded length up to a multiple of this.
            padding_side: "left"/"right" for this call (default: the tokenizer's padding_side).
            return_tensors: None for python lists, "np" for int64 arrays of shape (B, seq).
            return_token_type_ids, return_attention_mask: None follows `model_input_names`.
            return_overflowing_tokens: return every window of a truncated text as its own row, with
                `overflow_to_sample_mapping` (row -> index of the example it came from).
            return_special_tokens_mask: add `special_tokens_mask` (1 for added special tokens and padding).
            return_offsets_mapping: add `offset_mapping`, the (start, end) characters of each token.
            return_length: add `length`, the number of tokens of each row (padding included).

        Returns:
            BatchEncoding with the selected keys. For a single str (no overflow, no tensors) the values are
            flat lists of length seq, otherwise one row per example (and per overflow window): (B, seq).
        """
        if tokenizer_kwargs:
            named = {k: v for k, v in locals().items() if k not in ("self", "text", "text_pair", "text_target",
                                                                     "text_pair_target", "tokenizer_kwargs", "kwargs")}
            return self(text, text_pair, text_target, text_pair_target, **{**named, **tokenizer_kwargs, **kwargs})
        if text is None and text_target is None:
            raise ValueError("You need to specify either `text` or `text_target`.")
        # split_special_tokens: special tokens typed in the text are plain text for this call (_split_added)
        split = self.split_special_tokens if split_special_tokens is None else split_special_tokens
        previous, self._splitting_special_tokens = self._splitting_special_tokens, bool(split)
        try:
            padding, truncation, max_length = resolve_strategies(self, padding, truncation, max_length,
                                                                 pad_to_multiple_of, verbose)
            options = dict(add_special_tokens=add_special_tokens, padding=padding, truncation=truncation, stride=stride,
                           is_split_into_words=is_split_into_words, pad_to_multiple_of=pad_to_multiple_of,
                           padding_side=padding_side, return_tensors=return_tensors,
                           return_token_type_ids=return_token_type_ids, return_attention_mask=return_attention_mask,
                           return_overflowing_tokens=return_overflowing_tokens,
                           return_special_tokens_mask=return_special_tokens_mask,
                           return_offsets_mapping=return_offsets_mapping, return_length=return_length)
            encodings = None if text is None else self._encode_batch(text, text_pair, max_length=max_length, **options)
            if text_target is None:
                return encodings
            targets = self._encode_batch(text_target, text_pair_target, **options,
                                         max_length=max_target_length if max_target_length is not None else max_length)
            if encodings is None:
                return targets
            encodings["labels"] = targets["input_ids"]
            return encodings
        finally:
            self._splitting_special_tokens = previous

    def _encode_batch(self, text, text_pair, add_special_tokens, padding, truncation, max_length, stride,
                      is_split_into_words, pad_to_multiple_of, padding_side, return_tensors, return_token_type_ids,
                      return_attention_mask, return_overflowing_tokens, return_special_tokens_mask,
                      return_offsets_mapping, return_length):
        """`__call__` for one set of texts, with padding/truncation/max_length already resolved."""
        check_text_input(text, text_pair)
        if truncation is not None:
            # Checked once per call, as `tokenizers` does when truncation is switched on (a negative room
            # wraps around on its unsigned integers, so it passes).
            room = max_length - self.num_special_tokens_to_add(pair=False)
            if 0 <= room < stride:
                raise ValueError(f"tokenizer stride set to {stride}, which is greater than or equal to its effective "
                                 f"max length of {room} (= {max_length} original max length - "
                                 f"{self.num_special_tokens_to_add(pair=False)} added special tokens), ")
        side = padding_side if padding_side is not None else self.padding_side
        if padding is not None and side not in ("left", "right"):
            raise ValueError(f"padding_side should be 'right' or 'left', not {side!r}")
        if self._backend_state is not None or self._backend_cache is not None:
            follow_call(self, padding, truncation, max_length, stride, pad_to_multiple_of, side)

        if is_split_into_words:
            is_batched = isinstance(text, (list, tuple)) and bool(text) and isinstance(text[0], (list, tuple))
        else:
            is_batched = isinstance(text, (list, tuple))
        if is_batched:
            if isinstance(text_pair, str):
                raise TypeError("when tokenizing batches of text, `text_pair` must be a list or tuple with the same "
                                "length as `text`.")
            if text_pair is not None and len(text) != len(text_pair):
                raise ValueError(f"batch length of `text`: {len(text)} does not match batch length of "
                                 f"`text_pair`: {len(text_pair)}.")
            examples = list(zip(text, text_pair if text_pair is not None else [None] * len(text), strict=True))
        else:
            # transformers drops an empty single `text_pair` (it tests `if text_pair`), so we do too.
            examples = [(text, text_pair or None)]

        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        with cycle_collector_paused():
            encodings = [self._encode(a, b, add_special_tokens, truncation, max_length, stride, is_split_into_words)
                         for a, b in examples]
            if padding is not None:
                pad_batch(encodings, max_length if padding == "max_length" else None, self.pad_token_id,
                          self.pad_token, self.pad_token_type_id, side, pad_to_multiple_of)
            return BatchEncoding.from_encodings(
                encodings, is_batched, return_tensors, return_token_type_ids=return_token_type_ids,
                return_attention_mask=return_attention_mask, return_overflowing_tokens=return_overflowing_tokens,
                return_special_tokens_mask=return_special_tokens_mask, return_offsets_mapping=return_offsets_mapping,
                return_length=return_length)

    def encode(self, text, text_pair=None, add_special_tokens=True, **kwargs):
        """Text (or a pair) -> a flat list of input ids; `kwargs` as in `__call__` (truncation, ...)."""
        return self(text, text_pair, add_special_tokens=add_special_tokens, **kwargs)["input_ids"]

    def tokenize(self, text, pair=None, add_special_tokens=False, **kwargs):
        """Text -> token strings (without [CLS]/[SEP] unless asked). Special tokens typed in the text stay whole."""
        return self(text, pair, add_special_tokens=add_special_tokens, **kwargs).tokens()

    def pad(self, encoded_inputs, padding=True, max_length=None, pad_to_multiple_of=None, padding_side=None,
            return_attention_mask=None, return_tensors=None, verbose=True):
        """Pad already-encoded examples (a dict of lists or a list of dicts); see `padding.pad`."""
        return pad(self, encoded_inputs, padding, max_length, pad_to_multiple_of, padding_side,
                   return_attention_mask, return_tensors, verbose)

    # ------------------------------------------------------------------ ids -> text
    def _decode_tokens(self, tokens, clean_up_tokenization_spaces):
        """Tokens -> text, with transformers' optional clean-up of spaces before punctuation."""
        text = self.convert_tokens_to_string(tokens)
        if clean_up_tokenization_spaces is None:
            clean_up_tokenization_spaces = self.clean_up_tokenization_spaces
        return clean_up_tokenization(text) if clean_up_tokenization_spaces else text

    def decode(self, token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=None):
        """Ids (list, array or a single int) -> text; a batch (list of lists, 2-D array) -> list of texts.

        Ids outside the vocabulary are dropped; skip_special_tokens also drops the tokens added as special
        ([CLS], [PAD], add_special_tokens' ones), as `tokenizers` does.
        """
        if isinstance(token_ids, np.ndarray):
            token_ids = token_ids.tolist()
        if isinstance(token_ids, (int, np.integer)):
            token_ids = [int(token_ids)]
        if token_ids and isinstance(token_ids[0], (list, tuple, np.ndarray)):
            return [self.decode(ids, skip_special_tokens, clean_up_tokenization_spaces) for ids in token_ids]
        return self._decode_tokens(self._decoded_tokens(token_ids, skip_special_tokens), clean_up_tokenization_spaces)

    def batch_decode(self, sequences, skip_special_tokens=False, clean_up_tokenization_spaces=None):
        """A batch of id sequences (list of lists or 2-D array) -> list of texts; arguments as in `decode`."""
        result = self.decode(sequences, skip_special_tokens, clean_up_tokenization_spaces)
        return [result] if isinstance(result, str) else result

    # ------------------------------------------------------------------ saving
    def save_vocabulary(self, folder):
        """Write the vocabulary file(s) into `folder`; returns their paths."""
        raise NotImplementedError

    def tokenizer_config(self):
        """The settings written to tokenizer_config.json (subclasses add theirs), with every added token
        under added_tokens_decoder (id -> flags), which transformers 5 reads back."""
        config = dict(self.special_tokens_map)
        if self._extra_special_tokens:
            config["extra_special_tokens"] = list(self._extra_special_tokens)
        config["model_max_length"] = self.model_max_length
        config["clean_up_tokenization_spaces"] = self.clean_up_tokenization_spaces
        if self.padding_side != "right":
            config["padding_side"] = self.padding_side
        if self.truncation_side != "right":
            config["truncation_side"] = self.truncation_side
        if self.split_special_tokens:
            config["split_special_tokens"] = True
        config["tokenizer_class"] = type(self).__name__
        config["added_tokens_decoder"] = {str(i): t.to_dict() for i, t in self.added_tokens_decoder.items()}
        return config

    def save_pretrained(self, save_directory, legacy_format=None, filename_prefix=None, push_to_hub=False,
                        **kwargs):
        """Write the vocabulary, tokenizer.json, tokenizer_config.json and special_tokens_map.json into
        `save_directory`.

        transformers.AutoTokenizer.from_pretrained(save_directory) then behaves exactly like this tokenizer
        (added tokens included). Returns the paths written.
        """
        if push_to_hub:
            raise OSError("push_to_hub=True needs the Hugging Face Hub; nanohf works offline: save_pretrained "
                          "writes the folder, upload it with huggingface_hub yourself")
        os.makedirs(save_directory, exist_ok=True)
        remove_orphaned_temporaries(save_directory)  # what a save killed mid-write left behind
        config = self.tokenizer_config()
        special = {k: v for k, v in config.items() if k in SPECIAL_TOKEN_NAMES or k == "extra_special_tokens"}
        paths = save_chat_templates(self.chat_template, save_directory, config, kwargs.get("save_jinja_files", True))
        # tokenizer.json too, as transformers 5 writes it (the `tokenizers` library reads it: Tokenizer.from_file)
        files = (("tokenizer_config.json", config), ("special_tokens_map.json", special),
                 ("tokenizer.json", tokenizer_json(self)))
        for name, content in files:
            paths.append(os.path.join(save_directory, name))
            text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
            write_atomically(paths[-1], text.encode("utf-8"))
        return tuple(paths) + tuple(self.save_vocabulary(save_directory))

    _loading_folder = staticmethod(loading_folder)
    _common_settings = staticmethod(common_settings)


def clean_up_tokenization(text):
    """transformers' optional decode clean-up: glue punctuation and English contractions to the word before."""
    for before, after in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                          (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        text = text.replace(before, after)
    return text
