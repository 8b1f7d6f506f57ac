"""`PreTrainedTokenizerFast`: transformers' tokenizer API (`__call__`, padding, truncation, offsets, decode,
save_pretrained) over a `Tokenizer` of the `tokenizers` library re-telling (tokenizer.py).

    tok = PreTrainedTokenizerFast(tokenizer_file="tokenizer.json", pad_token="<pad>")
    tok = PreTrainedTokenizerFast(tokenizer_object=tokenizer)       # a Tokenizer built block by block
    tok(["a text", "another"], padding=True, return_offsets_mapping=True, return_tensors="np")

The call machinery is the shared one of base.py (truncation with overflow windows, padding, BatchEncoding);
this class only supplies the steps the backend Tokenizer owns: added tokens + normalizer + pre-tokenizer +
model for each text, its post-processor for the special tokens, its decoder. That is what transformers 5's
TokenizersBackend does with the Rust library.
"""

import copy
import os

from .base import PreTrainedTokenizerBase
from .encoding import Encoding, truncate_pair
from .loading import read_config
from .processors import BertProcessing, RobertaProcessing, TemplateProcessing, default_process
from .tokenizer import Tokenizer

# SentencePiece model files: their tokenizer.json has to be made first (transformers' converter does it).
SENTENCEPIECE_FILES = ("spiece.model", "tokenizer.model", "sentencepiece.bpe.model", "sentencepiece.model")


def _no_tokenizer_json(folder: str) -> Exception:
    spm = [name for name in SENTENCEPIECE_FILES if os.path.isfile(os.path.join(folder, name))]
    if spm:
        return OSError(
            f"{folder} has a SentencePiece model ({', '.join(spm)}) but no tokenizer.json. nanohf reads tokenizer.json "
            "only: convert it once with transformers, e.g. `transformers.AutoTokenizer.from_pretrained(folder)"
            ".save_pretrained(folder)` (which writes tokenizer.json), then load the folder again.")
    return FileNotFoundError(f"no tokenizer.json in {folder}")


class PreTrainedTokenizerFast(PreTrainedTokenizerBase):
    """A tokenizer backed by a `Tokenizer` (`backend_tokenizer`).

    Args:
        tokenizer_object: a nanohf `Tokenizer` (copied, as transformers deep-copies it).
        tokenizer_file: path of a tokenizer.json (used when no tokenizer_object is given).
        add_bos_token, add_eos_token: when either is given (or the backend has no post-processor), the
            post-processor becomes "bos $A eos" with the ones asked for (both default False), as transformers 5's
            TokenizersBackend.update_post_processor does; otherwise the file's post-processor is kept. (From
            from_pretrained's arguments only: tokenizer_config.json's are ignored, and never written, as there.)
        **kwargs: special tokens (bos_token, eos_token, unk_token, sep_token, pad_token, cls_token, mask_token,
            extra_special_tokens), model_max_length, padding_side, ... as for every nanohf tokenizer.
    """

    model_input_names = ["input_ids", "attention_mask"]  # transformers 5's default for a plain tokenizer.json

    def __init__(self, *args, tokenizer_object: Tokenizer | None = None, tokenizer_file: str | None = None, **kwargs):
        if args:
            raise TypeError(f"{type(self).__name__} takes keyword arguments only (tokenizer_object=, tokenizer_file=)")
        if tokenizer_object is not None:
            backend = copy.deepcopy(tokenizer_object)
        elif tokenizer_file is not None:
            backend = Tokenizer.from_file(tokenizer_file)
        else:
            raise ValueError(f"{type(self).__name__} needs a tokenizer_object (a nanohf Tokenizer) or a tokenizer_file "
                             "(tokenizer.json)")
        if not isinstance(backend, Tokenizer):
            raise TypeError(f"tokenizer_object must be a nanohf.tokenizers.Tokenizer, not {type(backend).__name__}")
        self._tokenizer = backend
        added = kwargs.pop("added_tokens", None)
        if added is None:
            added = list(backend.get_added_tokens_decoder().items())
        explicit = {key: bool(kwargs.pop(key)) for key in ("add_bos_token", "add_eos_token") if key in kwargs}
        self._add_bos_token = explicit.get("add_bos_token", False)
        self._add_eos_token = explicit.get("add_eos_token", False)
        super().__init__(backend.get_vocab(with_added_tokens=False), added_tokens=added, **kwargs)
        self._sync_backend()
        if explicit or backend.post_processor is None:
            self.update_post_processor()

    # ------------------------------------------------------------------ the backend
    @property
    def backend_tokenizer(self) -> Tokenizer:
        return self._tokenizer

    def _sync_backend(self) -> None:
        """Tokens added on this side (special tokens given as arguments, add_tokens) go to the backend too."""
        known = self._tokenizer._added.token_ids
        new = [token for _, token in sorted(self.added_vocab.decoder.items()) if token.content not in known]
        if new:
            self._tokenizer._added.add(new, self._tokenizer.model, self._tokenizer.normalizer, special=False)

    def add_tokens(self, new_tokens, special_tokens: bool = False) -> int:
        added = super().add_tokens(new_tokens, special_tokens)
        self._sync_backend()
        return added

    # ------------------------------------------------------------------ bos / eos by template
    def update_post_processor(self) -> None:
        """The post-processor "bos:0 $A:0 eos:0" / "... bos:1 $B:1 eos:1" with the tokens add_bos_token and
        add_eos_token ask for (a missing bos_token / eos_token turns its flag off), as transformers 5 builds it."""
        bos, eos = self.bos_token, self.eos_token
        if bos is None:
            self._add_bos_token = False
        if eos is None:
            self._add_eos_token = False
        add_bos, add_eos = self._add_bos_token, self._add_eos_token
        single = f"{bos}:0 " * add_bos + "$A:0" + f" {eos}:0" * add_eos
        pair = single + f" {bos}:1" * add_bos + " $B:1" + f" {eos}:1" * add_eos
        specials = [(str(bos), self.convert_tokens_to_ids(str(bos)))] * add_bos
        specials += [(str(eos), self.convert_tokens_to_ids(str(eos)))] * add_eos
        self._tokenizer.post_processor = TemplateProcessing(single, pair, specials)

    @property
    def add_bos_token(self) -> bool:
        return self._add_bos_token

    @add_bos_token.setter
    def add_bos_token(self, value: bool) -> None:
        self._add_bos_token = bool(value)
        self.update_post_processor()

    @property
    def add_eos_token(self) -> bool:
        return self._add_eos_token

    @add_eos_token.setter
    def add_eos_token(self, value: bool) -> None:
        self._add_eos_token = bool(value)
        self.update_post_processor()

    # ------------------------------------------------------------------ encoding (hooks of base.py)
    def num_special_tokens_to_add(self, pair=False):
        return self._tokenizer.num_special_tokens_to_add(pair)

    def _encode(self, text, text_pair, add_special_tokens, truncation, max_length, stride, is_split_into_words):
        backend = self._tokenizer
        first = backend._encode_sequence(text, 0, is_split_into_words)
        second = None if text_pair is None else backend._encode_sequence(text_pair, 1, is_split_into_words)
        if truncation is not None:
            budget = max_length - (self.num_special_tokens_to_add(second is not None) if add_special_tokens else 0)
            if budget >= 0:  # a negative room cuts nothing, as in `tokenizers` (unsigned arithmetic)
                truncate_pair(first, second, budget, truncation, stride, self.truncation_side)
        processor = backend.post_processor
        if processor is not None:
            return processor.process(first, second, add_special_tokens)
        return first if second is None else Encoding.merge(default_process([first, second]))

    def _template(self, pair):
        """The post-processor as base.py's template (for build_inputs_with_special_tokens and friends)."""
        processor = self._tokenizer.post_processor
        if isinstance(processor, TemplateProcessing):
            pieces = []
            for kind, value, type_id in processor.pair if pair else processor.single:
                if kind == "seq":
                    pieces.append((value, type_id))
                else:
                    pieces += [(token, type_id) for token in processor.special_tokens[value][1]]
            return pieces
        if isinstance(processor, BertProcessing):
            cls, sep = processor.cls[0], processor.sep[0]
            return [(cls, 0), (0, 0), (sep, 0)] + ([(1, 1), (sep, 1)] if pair else [])
        if isinstance(processor, RobertaProcessing):
            cls, sep = processor.cls[0], processor.sep[0]
            return [(cls, 0), (0, 0), (sep, 0)] + ([(sep, 0), (1, 0), (sep, 0)] if pair else [])
        return [(0, 0), (1, 1)] if pair else [(0, 0)]

    # ------------------------------------------------------------------ decoding
    def convert_tokens_to_string(self, tokens):
        decoder = self._tokenizer.decoder
        return " ".join(tokens) if decoder is None else decoder.decode(tokens)

    # ------------------------------------------------------------------ files
    def save_vocabulary(self, folder, filename_prefix=None):
        """Write tokenizer.json (atomically)."""
        name = f"{filename_prefix}-tokenizer.json" if filename_prefix else "tokenizer.json"
        path = os.path.join(folder, name)
        self._tokenizer.save(path)
        return (path,)

    def _backend_components(self) -> dict:
        data = self._tokenizer.to_dict()
        return {k: data[k] for k in ("normalizer", "pre_tokenizer", "post_processor", "decoder", "model")}

    @classmethod
    def from_pretrained(cls, name_or_path, *args, **kwargs):
        """Load a folder with tokenizer.json (+ tokenizer_config.json, special_tokens_map.json)."""
        folder = cls._loading_folder(name_or_path, kwargs)
        path = os.path.join(folder, "tokenizer.json")
        if not os.path.isfile(path):
            raise _no_tokenizer_json(folder)
        config = read_config(folder)
        settings = cls._common_settings(config, folder)
        settings.update(cls._class_settings(config))
        return cls(*args, tokenizer_file=path, **{**settings, **kwargs})

    @staticmethod
    def _class_settings(config: dict) -> dict:
        """Keys of tokenizer_config.json a subclass understands besides the common ones. (add_bos_token and
        add_eos_token are not among them: with a tokenizer.json, transformers 5 reads them from the call only, and
        the file's post-processor already says where bos / eos go.)"""
        return {}
