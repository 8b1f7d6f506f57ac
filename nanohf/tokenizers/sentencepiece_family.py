"""The SentencePiece-style tokenizers the course names: T5, ALBERT, XLNet, XLM-R (Unigram) and Llama (BPE with
byte fallback), each also under its ...Fast name, as in transformers 5.

Like transformers 5 (models/*/tokenization_*.py), a class takes only the vocabulary from tokenizer.json and
builds its own pipeline around it from its arguments:

    T5Tokenizer       Unigram(unk_id=2); WhitespaceSplit + Metaspace; "$A </s>"; 100 <extra_id_n> tokens
    AlbertTokenizer   Unigram(unk_id=1); quotes, NFKD + StripAccents (keep_accents=False), Lowercase
                      (do_lower_case); WhitespaceSplit + Metaspace; "[CLS] $A [SEP]"
    XLNetTokenizer    Unigram(unk_id); quotes, NFKD + StripAccents, Lowercase (do_lower_case); WhitespaceSplit
                      + Metaspace; "$A <sep> <cls>" (type id 2); <eop> <eod>; padding on the left
    XLMRobertaTokenizer  Unigram(unk_id=3); WhitespaceSplit + Metaspace; "<s> $A </s>"
    LlamaTokenizer    BPE(fuse_unk, byte_fallback); Metaspace(prepend "first", no split); the file's post-processor;
                      decoder Replace + ByteFallback + Fuse + Strip; padding on the left

so `AutoTokenizer.from_pretrained(folder)` gives what transformers' AutoTokenizer gives on the same folder.
A file's SentencePiece normalizer (the "Precompiled" charsmap of real checkpoints, precompiled.py) is kept, as
transformers keeps it.
"""

from . import decoders, models, normalizers, pre_tokenizers, processors
from .fast import PreTrainedTokenizerFast
from .tokenizer import Tokenizer


def _source(tokenizer_object, tokenizer_file) -> Tokenizer | None:
    if tokenizer_object is not None:
        return tokenizer_object
    return None if tokenizer_file is None else Tokenizer.from_file(tokenizer_file)


def _unigram_vocab(source, default: list[tuple[str, float]]) -> list[tuple[str, float]]:
    if source is None:
        return default
    if not isinstance(source.model, models.Unigram):
        raise ValueError(f"expected a Unigram tokenizer.json, got a {type(source.model).__name__} model")
    return list(source.model.vocab)


def _precompiled(source) -> list:
    """[the file's Precompiled normalizer] when it has one (transformers passes it on as _spm_precompiled_charsmap)."""
    found = [] if source is None else [source.normalizer]
    while found and isinstance(found[0], normalizers.Sequence):
        found = list(found[0].normalizers)
    return [n for n in found if isinstance(n, normalizers.Precompiled)][:1]


def _metaspace_pipeline(tok: Tokenizer, prepend_scheme: str) -> None:
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace("▁", prepend_scheme)])
    tok.decoder = decoders.Metaspace("▁", prepend_scheme)


def _carry_added_tokens(source, kwargs) -> None:
    """The file's added tokens (with their ids) come along, as transformers keeps them."""
    if source is not None and "added_tokens" not in kwargs:
        kwargs["added_tokens"] = list(source.get_added_tokens_decoder().items())


class _SentencePieceTokenizer(PreTrainedTokenizerFast):
    _config_keys: tuple[str, ...] = ()

    @classmethod
    def _class_settings(cls, config: dict) -> dict:
        return {key: config[key] for key in cls._config_keys if key in config}

    def _template_processor(self, single: str, pair: str, tokens: list[str]) -> None:
        self._tokenizer.post_processor = processors.TemplateProcessing(
            single, pair, [(t, self.convert_tokens_to_ids(t)) for t in tokens])


class T5Tokenizer(_SentencePieceTokenizer):
    model_input_names = ["input_ids", "attention_mask"]
    _config_keys = ("extra_ids",)

    def __init__(self, *, tokenizer_object=None, tokenizer_file=None, eos_token="</s>", unk_token="<unk>",
                 pad_token="<pad>", extra_ids=100, extra_special_tokens=None, **kwargs):
        extra = extra_special_tokens if extra_special_tokens is not None else kwargs.pop("additional_special_tokens",
                                                                                           None)
        if extra is not None:
            extra = list(extra)
            sentinels = [t for t in extra if "<extra_id_" in str(t)]
            if not sentinels:
                extra += [f"<extra_id_{i}>" for i in range(extra_ids)]
            elif extra_ids > 0 and extra_ids != len(sentinels):
                raise ValueError(f"Both extra_ids ({extra_ids}) and additional_special_tokens ({extra}) are "
                                 "provided to T5Tokenizer. In this case the additional_special_tokens must include "
                                 "the extra_ids tokens")
        else:
            extra = [f"<extra_id_{i}>" for i in range(extra_ids)]
        source = _source(tokenizer_object, tokenizer_file)
        default = [(str(pad_token), 0.0), (str(eos_token), 0.0), (str(unk_token), 0.0), ("▁", -2.0)]
        default += [(f"<extra_id_{i}>", 0.0) for i in range(extra_ids - 1, -1, -1)]
        tok = Tokenizer(models.Unigram(_unigram_vocab(source, default), unk_id=2, byte_fallback=False))
        tok.normalizer = (_precompiled(source) or [None])[0]
        _metaspace_pipeline(tok, "always")
        _carry_added_tokens(source, kwargs)
        self.extra_ids = extra_ids
        super().__init__(tokenizer_object=tok, eos_token=eos_token, unk_token=unk_token, pad_token=pad_token,
                         extra_special_tokens=extra, **kwargs)
        self._template_processor("$A </s>", "$A </s> $B </s>", ["</s>"])

    def get_sentinel_tokens(self) -> list[str]:
        return [t for t in self.extra_special_tokens if t.startswith("<extra_id_")]

    def get_sentinel_token_ids(self) -> list[int]:
        return [self.convert_tokens_to_ids(t) for t in self.get_sentinel_tokens()]


class AlbertTokenizer(_SentencePieceTokenizer):
    model_input_names = ["input_ids", "attention_mask"]
    _config_keys = ("do_lower_case", "keep_accents", "add_prefix_space", "trim_offsets")

    def __init__(self, *, tokenizer_object=None, tokenizer_file=None, do_lower_case=True, keep_accents=False,
                 bos_token="[CLS]", eos_token="[SEP]", unk_token="<unk>", sep_token="[SEP]", pad_token="<pad>",
                 cls_token="[CLS]", mask_token="[MASK]", add_prefix_space=True, trim_offsets=True, **kwargs):
        source = _source(tokenizer_object, tokenizer_file)
        default = [(str(t), 0.0) for t in (pad_token, unk_token, cls_token, sep_token, mask_token)]
        tok = Tokenizer(models.Unigram(_unigram_vocab(source, default), unk_id=1, byte_fallback=False))
        steps = [normalizers.Replace("``", '"'), normalizers.Replace("''", '"')]
        if not keep_accents:
            steps += [normalizers.NFKD(), normalizers.StripAccents()]
        if do_lower_case:
            steps.append(normalizers.Lowercase())
        tok.normalizer = normalizers.Sequence(steps + _precompiled(source))
        _metaspace_pipeline(tok, "always" if add_prefix_space else "never")
        _carry_added_tokens(source, kwargs)
        self.do_lower_case, self.keep_accents = do_lower_case, keep_accents
        self.add_prefix_space, self.trim_offsets = add_prefix_space, trim_offsets
        super().__init__(tokenizer_object=tok, bos_token=bos_token, eos_token=eos_token, unk_token=unk_token,
                         sep_token=sep_token, pad_token=pad_token, cls_token=cls_token, mask_token=mask_token, **kwargs)
        # transformers names the template's tokens "[CLS]" / "[SEP]" whatever cls_token and sep_token are
        tok = self._tokenizer
        tok.post_processor = processors.TemplateProcessing(
            "[CLS]:0 $A:0 [SEP]:0", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
            [("[CLS]", tok.token_to_id(str(cls_token))), ("[SEP]", tok.token_to_id(str(sep_token)))])


class XLNetTokenizer(_SentencePieceTokenizer):
    model_input_names = ["input_ids", "attention_mask"]
    padding_side = "left"
    pad_token_type_id = 3
    _config_keys = ("unk_id", "do_lower_case", "remove_space", "keep_accents")

    def __init__(self, *, tokenizer_object=None, tokenizer_file=None, unk_id=0, do_lower_case=False,
                 remove_space=True, keep_accents=False, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                 sep_token="<sep>", pad_token="<pad>", cls_token="<cls>", mask_token="<mask>",
                 extra_special_tokens=None, **kwargs):
        from .added_vocabulary import AddedToken

        extra = extra_special_tokens if extra_special_tokens is not None else kwargs.pop("additional_special_tokens",
                                                                                           None)
        if extra is None:
            extra = ["<eop>", "<eod>"]
        source = _source(tokenizer_object, tokenizer_file)
        tok = Tokenizer(models.Unigram(_unigram_vocab(source, [(str(unk_token), 0.0)]), unk_id=unk_id,
                                       byte_fallback=False))
        steps = [normalizers.Replace("``", '"'), normalizers.Replace("''", '"'), normalizers.NFKD(),
                 normalizers.StripAccents()]
        if do_lower_case:
            steps.append(normalizers.Lowercase())
        tok.normalizer = normalizers.Sequence(steps + _precompiled(source))
        _metaspace_pipeline(tok, "always")
        _carry_added_tokens(source, kwargs)
        self.do_lower_case, self.remove_space, self.keep_accents = do_lower_case, remove_space, keep_accents
        known = set() if source is None else set(source.get_vocab())
        if isinstance(mask_token, str) and mask_token not in known:  # a file's own <mask> keeps its flags
            mask_token = AddedToken(mask_token, lstrip=True, rstrip=False, special=True)
        super().__init__(tokenizer_object=tok, bos_token=bos_token, eos_token=eos_token, unk_token=unk_token,
                         sep_token=sep_token, pad_token=pad_token, cls_token=cls_token, mask_token=mask_token,
                         extra_special_tokens=extra, **kwargs)
        sep, cls = str(self.sep_token), str(self.cls_token)
        self._template_processor(f"$A:0 {sep}:0 {cls}:2", f"$A:0 {sep}:0 $B:1 {sep}:1 {cls}:2", [sep, cls])


class XLMRobertaTokenizer(_SentencePieceTokenizer):
    model_input_names = ["input_ids", "attention_mask"]
    _config_keys = ("add_prefix_space",)

    def __init__(self, *, tokenizer_object=None, tokenizer_file=None, add_prefix_space=True, bos_token="<s>",
                 eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>",
                 mask_token="<mask>", **kwargs):
        source = _source(tokenizer_object, tokenizer_file)
        default = [(str(t), 0.0) for t in (bos_token, pad_token, eos_token, unk_token, mask_token)]
        tok = Tokenizer(models.Unigram(_unigram_vocab(source, default), unk_id=3, byte_fallback=False))
        tok.normalizer = (_precompiled(source) or [None])[0]
        _metaspace_pipeline(tok, "always" if add_prefix_space else "never")
        _carry_added_tokens(source, kwargs)
        self.add_prefix_space = add_prefix_space
        super().__init__(tokenizer_object=tok, bos_token=bos_token, eos_token=eos_token, sep_token=sep_token,
                         cls_token=cls_token, unk_token=unk_token, pad_token=pad_token, mask_token=mask_token, **kwargs)
        bos, eos = str(bos_token), str(eos_token)
        self._template_processor(f"{bos} $A {eos}", f"{bos} $A {eos} {eos} $B {eos}", [bos, eos])


class LlamaTokenizer(_SentencePieceTokenizer):
    model_input_names = ["input_ids", "attention_mask"]
    padding_side = "left"
    _config_keys = ("legacy", "add_prefix_space")

    def __init__(self, *, tokenizer_object=None, tokenizer_file=None, unk_token="<unk>", bos_token="<s>",
                 eos_token="</s>", legacy=False, add_prefix_space=None, **kwargs):
        source = _source(tokenizer_object, tokenizer_file)
        if source is None:
            vocab, merges = {str(unk_token): 0, str(bos_token): 1, str(eos_token): 2}, []
        elif isinstance(source.model, models.BPE):
            vocab, merges = source.model.vocab, source.model.merges
        else:
            raise ValueError(f"expected a BPE tokenizer.json, got a {type(source.model).__name__} model")
        self.add_prefix_space = True if add_prefix_space is None else add_prefix_space
        self.legacy = legacy
        tok = Tokenizer(models.BPE(vocab, merges, fuse_unk=True, byte_fallback=True))
        scheme = ("first" if not legacy else "always") if self.add_prefix_space else "never"
        tok.pre_tokenizer = pre_tokenizers.Metaspace("▁", scheme, split=False)
        steps = [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]
        if self.add_prefix_space:
            steps.append(decoders.Strip(" ", 1, 0))
        tok.decoder = decoders.Sequence(steps)
        # The file's post-processor ("<s> $A" in Llama 2 files) is kept unless add_bos_token / add_eos_token are
        # given; without either, "$A" alone (transformers 5: both default to False, PreTrainedTokenizerFast)
        tok.post_processor = None if source is None else source.post_processor
        _carry_added_tokens(source, kwargs)
        super().__init__(tokenizer_object=tok, unk_token=unk_token, bos_token=bos_token, eos_token=eos_token,
                         **kwargs)


T5TokenizerFast = T5Tokenizer  # one class, two names, as in transformers 5
AlbertTokenizerFast = AlbertTokenizer
XLNetTokenizerFast = XLNetTokenizer
XLMRobertaTokenizerFast = XLMRobertaTokenizer
LlamaTokenizerFast = LlamaTokenizer

__all__ = ["AlbertTokenizer", "AlbertTokenizerFast", "LlamaTokenizer", "LlamaTokenizerFast", "T5Tokenizer",
           "T5TokenizerFast", "XLMRobertaTokenizer", "XLMRobertaTokenizerFast", "XLNetTokenizer", "XLNetTokenizerFast"]
