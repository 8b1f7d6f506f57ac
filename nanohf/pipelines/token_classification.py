"""token-classification / ner: a label for each token, or entities grouped from B-/I- tags.

    "Hugging Face Inc. is in New York"
        --tokens--> [CLS] hugging face inc . is in new york [SEP]
        --softmax per token, argmax--> B-ORG I-ORG I-ORG O O O B-LOC I-LOC
        --group (aggregation_strategy="simple")--> ORG "hugging face inc" (0, 16), LOC "new york" (24, 32)

aggregation_strategy:
    "none"     one dict per token (``entity``, ``index``), the "O" tokens dropped (``ignore_labels``).
    "simple"   adjacent tokens with the same tag form a group (``entity_group``); a B- tag starts a new
               group; the group's score is the mean of its tokens' scores.
    "first" / "average" / "max"
               as "simple", but the tokens of one word first agree on one label: the first token's,
               the label of the averaged scores, or the label of the single most confident token.
               Word boundaries come from the character offsets, so these need a tokenizer that gives them.

Inputs: a string (-> a list of entities) or a list of strings (-> a list of such lists); with
``is_split_into_words=True`` a list of words or a list of such lists (-> always a list of entity lists, as in
transformers), the offsets counting in the words joined by ``delimiter`` (default " ").
"""

import warnings

import numpy as np

from nanohf.models.auto import AutoModelForTokenClassification
from nanohf.pipelines.base import Pipeline, require_head, softmax

STRATEGIES = ("none", "simple", "first", "average", "max")
WORD_STRATEGIES = ("first", "average", "max")


def _strategy(aggregation_strategy) -> str:
    """An aggregation strategy ("none", "SIMPLE", ... or an enum with such a ``value``) -> its lower-case name."""
    name = str(getattr(aggregation_strategy, "value", aggregation_strategy)).lower()
    if name not in STRATEGIES:
        raise ValueError(f"Unknown aggregation_strategy {aggregation_strategy!r}; choose one of {STRATEGIES}")
    return name


class TokenClassificationPipeline(Pipeline):
    def __init__(self, model, tokenizer, batch_size: int = 1, **defaults):
        require_head(model, AutoModelForTokenClassification, "token-classification",
                     "a token-classification head (one label per token)")  # fmt: skip
        super().__init__(model, tokenizer, batch_size=batch_size, **defaults)
        self._check_params(**defaults)

    @property
    def has_offsets(self) -> bool:
        # nanohf's tokenizers all give character offsets; a transformers "slow" tokenizer says is_fast=False.
        return bool(getattr(self.tokenizer, "is_fast", True))

    def __call__(self, inputs, *args, batch_size: int | None = None, **kwargs):
        """``ner(text)``, ``ner([texts])``, or with ``is_split_into_words=True`` one list of words or a list of
        such lists (words joined by ``delimiter``, default " ", for the offsets). One pre-split sentence still
        gets a one-element list of entity lists, as in transformers."""
        # As transformers: only the call says whether its inputs are pre-split (a construction-time
        # is_split_into_words or delimiter is overridden by the call's defaults, False and " ").
        kwargs["is_split_into_words"] = kwargs.get("is_split_into_words", False)
        kwargs["delimiter"] = kwargs.get("delimiter")
        self._check_params(**{**self.defaults, **kwargs})
        if kwargs["is_split_into_words"] and isinstance(inputs, list):
            if not all(isinstance(words, list) for words in inputs):
                inputs = [inputs]
        return super().__call__(inputs, *args, batch_size=batch_size, **kwargs)

    def _check_params(self, aggregation_strategy=None, stride=None, **_) -> None:
        strategy = None if aggregation_strategy is None else _strategy(aggregation_strategy)
        if strategy in WORD_STRATEGIES and not self.has_offsets:
            raise ValueError(
                f"aggregation_strategy={strategy!r} finds word boundaries from character offsets, which "
                f"{type(self.tokenizer).__name__} does not give: use 'simple' or a tokenizer with offsets"
            )
        if stride is not None:
            if stride >= self.tokenizer.model_max_length:
                raise ValueError(
                    f"stride ({stride}) must be less than the tokenizer's model_max_length "
                    f"({self.tokenizer.model_max_length}), minus its special tokens"
                )
            if strategy == "none":
                raise ValueError(
                    "stride splits the text into overlapping windows whose entities are then merged; "
                    'this needs aggregation_strategy "simple", "first", "average" or "max", not "none"'
                )
            if not self.has_offsets:
                raise ValueError(f"stride needs character offsets, which {type(self.tokenizer).__name__} lacks")

    # ------------------------------------------------------------------ the three steps
    def preprocess(self, text, stride: int | None = None, is_split_into_words: bool = False, delimiter=None,
                   **_) -> list[dict]:  # fmt: skip
        """A string (or, with ``is_split_into_words``, a list of words) -> its features: one, or with ``stride``
        one per overlapping window of model_max_length.

        Each feature keeps the text, its ``special_tokens_mask`` and (when available) ``offset_mapping``; for
        pre-split words also each token's word index and each word's first character in the joined text
        (the tokenizer's offsets then count from the start of the token's word)."""
        word_starts = None
        if is_split_into_words:
            if not isinstance(text, list):
                raise ValueError("When `is_split_into_words=True`, `sentence` must be a list of tokens.")
            words, delimiter = text, " " if delimiter is None else delimiter
            text = delimiter.join(words)
            word_starts = list(np.cumsum([0] + [len(word) + len(delimiter) for word in words[:-1]]))
        elif not isinstance(text, str):
            raise ValueError(f"token-classification takes a string or a list of strings, not {type(text).__name__}")
        windows = {"return_overflowing_tokens": True, "stride": stride} if stride is not None else {}
        encoded = self.tokenizer(
            [words] if is_split_into_words else [text],
            is_split_into_words=is_split_into_words,
            truncation=True,
            return_special_tokens_mask=True,
            return_offsets_mapping=self.has_offsets,
            **windows,
        )
        keys = [key for key in encoded.keys() if key != "overflow_to_sample_mapping"]
        features = [{"text": text, **{key: encoded[key][i] for key in keys}} for i in range(len(encoded["input_ids"]))]
        if word_starts is not None:
            for feature, encoding in zip(features, encoded.encodings, strict=True):
                feature["word_ids"], feature["word_starts"] = list(encoding.words), word_starts
        return features

    def _forward(self, model_inputs: dict) -> dict:
        """Padded ``(batch, seq)`` inputs -> ``{"logits": (batch, seq, num_labels)}``."""
        return {"logits": self.model(**model_inputs)["logits"]}

    def postprocess(self, features_and_outputs, aggregation_strategy=None, ignore_labels=None, **_) -> list[dict]:
        strategy = "none" if aggregation_strategy is None else _strategy(aggregation_strategy)
        ignore_labels = ["O"] if ignore_labels is None else ignore_labels
        entities = []
        for feature, outputs in features_and_outputs:
            n_tokens = len(feature["input_ids"])
            scores = softmax(np.asarray(outputs["logits"][:n_tokens], dtype=np.float32))
            tokens = self._tokens(feature, scores, strategy)
            for entity in self._aggregate(tokens, strategy):
                if entity.get("entity") not in ignore_labels and entity.get("entity_group") not in ignore_labels:
                    entities.append(entity)
        return merge_overlapping(entities) if len(features_and_outputs) > 1 else entities

    # ------------------------------------------------------------------ tokens -> words -> entities
    def _tokens(self, feature: dict, scores: np.ndarray, strategy: str) -> list[dict]:
        """The text's tokens (special tokens dropped): word piece, scores (num_labels,), index, start, end and
        whether it continues the previous token's word."""
        text, offsets = feature["text"], feature.get("offset_mapping")
        prefix = getattr(getattr(self.tokenizer, "wordpiece_tokenizer", None), "prefix", None)
        tokens = []
        for index, token_id in enumerate(feature["input_ids"]):
            if feature["special_tokens_mask"][index]:
                continue
            word = self.tokenizer.convert_ids_to_tokens(int(token_id))
            start = end = None
            is_subword = False
            if offsets is not None:
                start, end = (int(x) for x in offsets[index])
                if "word_starts" in feature and feature["word_ids"][index] is not None:
                    shift = int(feature["word_starts"][feature["word_ids"][index]])  # word offsets -> text offsets
                    start, end = start + shift, end + shift
                if prefix:
                    # A "##" piece is longer than the characters it covers; a whole word is as long.
                    is_subword = len(word) != len(text[start:end])
                else:
                    if strategy in WORD_STRATEGIES:
                        warnings.warn("The tokenizer marks no subwords: word starts guessed from spaces", stacklevel=2)
                    # Guess: a token continues a word when no space sits just before it (fails on punctuation).
                    is_subword = start > 0 and " " not in text[start - 1 : start + 1]
                if int(token_id) == self.tokenizer.unk_token_id:
                    word, is_subword = text[start:end], False  # show the original characters, not [UNK]
            tokens.append(
                {"word": word, "scores": scores[index], "index": index, "start": start, "end": end,
                 "is_subword": is_subword}
            )  # fmt: skip
        return tokens

    def _aggregate(self, tokens: list[dict], strategy: str) -> list[dict]:
        """Tokens -> entities: per token for "none", else grouped (per word first for the word strategies)."""
        id2label = self.model.config.id2label
        if strategy in WORD_STRATEGIES:
            labelled = [self._word_entity(word_tokens, strategy) for word_tokens in split_words(tokens)]
        else:
            labelled = []
            for token in tokens:
                best = int(token["scores"].argmax())
                labelled.append(
                    {"entity": id2label[best], "score": np.float32(token["scores"][best]), "index": token["index"],
                     "word": token["word"], "start": token["start"], "end": token["end"]}
                )  # fmt: skip
        if strategy == "none":
            return labelled
        return [self._group_entity(group) for group in split_groups(labelled)]

    def _word_entity(self, word_tokens: list[dict], strategy: str) -> dict:
        """The tokens of one word -> one labelled word, the label chosen by ``strategy``."""
        if strategy == "first":
            scores = word_tokens[0]["scores"]
        elif strategy == "max":
            scores = max(word_tokens, key=lambda token: token["scores"].max())["scores"]
        else:  # average
            scores = np.nanmean(np.stack([token["scores"] for token in word_tokens]), axis=0)
        best = int(scores.argmax())
        return {
            "entity": self.model.config.id2label[best],
            "score": np.float32(scores[best]),
            "word": self.tokenizer.convert_tokens_to_string([token["word"] for token in word_tokens]),
            "start": word_tokens[0]["start"],
            "end": word_tokens[-1]["end"],
        }

    def _group_entity(self, group: list[dict]) -> dict:
        """Adjacent labelled tokens/words of one entity -> ``{"entity_group", "score" (mean), "word", ...}``."""
        return {
            "entity_group": group[0]["entity"].split("-", 1)[-1],
            "score": np.float32(np.nanmean(np.array([entity["score"] for entity in group], dtype=np.float32))),
            "word": self.tokenizer.convert_tokens_to_string([entity["word"] for entity in group]),
            "start": group[0]["start"],
            "end": group[-1]["end"],
        }


def split_words(tokens: list[dict]) -> list[list[dict]]:
    """Tokens -> words: each token that is not a subword starts a new word."""
    words = []
    for token in tokens:
        if words and token["is_subword"]:
            words[-1].append(token)
        else:
            words.append([token])
    return words


def bio_tag(label: str) -> tuple[str, str]:
    """A BIO label -> (prefix, tag): "B-PER" -> ("B", "PER"); a bare label continues: "PER" -> ("I", "PER")."""
    if label.startswith(("B-", "I-")):
        return label[0], label[2:]
    return "I", label


def split_groups(labelled: list[dict]) -> list[list[dict]]:
    """Labelled tokens/words -> groups: one continues the previous group when it has the same tag and no B-."""
    groups = []
    for entity in labelled:
        prefix, tag = bio_tag(entity["entity"])
        if groups and prefix != "B" and tag == bio_tag(groups[-1][-1]["entity"])[1]:
            groups[-1].append(entity)
        else:
            groups.append([entity])
    return groups


def merge_overlapping(entities: list[dict]) -> list[dict]:
    """Entities of overlapping stride windows -> one per span: of two that overlap, keep the longer
    (at equal length the higher score)."""
    kept = []
    for entity in sorted(entities, key=lambda e: e["start"]):
        if not kept:
            kept.append(entity)
            continue
        last = kept[-1]
        if last["start"] <= entity["start"] < last["end"]:
            length, last_length = entity["end"] - entity["start"], last["end"] - last["start"]
            if length > last_length or (length == last_length and entity["score"] > last["score"]):
                kept[-1] = entity
        else:
            kept.append(entity)
    return kept
