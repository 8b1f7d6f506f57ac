"""fill-mask: the most likely words for each mask token ([MASK]) in a text, from a masked-LM head.

    "Paris is the [MASK] of France." -> [{"score", "token", "token_str", "sequence"}, ...]  (top_k of them)

Scores are the softmax over the whole vocabulary at the mask's position; ``targets`` only restricts
which tokens are ranked (their probabilities are not renormalised). A text with several masks gets
one ranked list per mask, each mask scored on its own (not a joint probability), as transformers.
"""

import logging

import numpy as np

from nanohf.models.auto import AutoModelForMaskedLM
from nanohf.pipelines.base import Pipeline, require_head, softmax

logger = logging.getLogger(__name__)


class FillMaskPipeline(Pipeline):
    def __init__(self, model, tokenizer, batch_size: int = 1, **defaults):
        require_head(model, AutoModelForMaskedLM, "fill-mask", "a masked-language-modeling head")
        if tokenizer.mask_token_id is None:
            raise ValueError(f"fill-mask needs a tokenizer with a mask_token; {type(tokenizer).__name__} has none")
        super().__init__(model, tokenizer, batch_size=batch_size, **defaults)

    def __call__(self, inputs, *args, **kwargs):
        """``targets`` are turned into token ids once per call, not once per input."""
        targets = kwargs.pop("targets", self.defaults.get("targets"))
        kwargs["target_ids"] = None if targets is None else self.target_ids(targets)
        results = super().__call__(inputs, *args, **kwargs)
        # transformers hands back the bare result for a one-element list, as for a single text.
        return results[0] if isinstance(inputs, list) and len(inputs) == 1 else results

    def target_ids(self, targets: str | list[str]) -> np.ndarray:
        """Words -> distinct vocabulary ids (n_targets,).

        A word outside the vocabulary is tokenized and its first sub-token used; a word that gives no
        token at all is dropped (both with a warning)."""
        vocab = self.tokenizer.get_vocab()
        ids = []
        for target in [targets] if isinstance(targets, str) else targets:
            if target in vocab:
                ids.append(vocab[target])
                continue
            sub_ids = self.tokenizer(target, add_special_tokens=False)["input_ids"]
            if not sub_ids:
                logger.warning("fill-mask target %r gives no token in this vocabulary: ignored", target)
                continue
            first = self.tokenizer.convert_ids_to_tokens(sub_ids[0])
            logger.warning("fill-mask target %r is not in the vocabulary: using its first sub-token %r", target, first)
            ids.append(sub_ids[0])
        if not ids:
            raise ValueError(f"fill-mask targets {targets!r}: none of them gives a token; give at least one word")
        return np.array(sorted(set(ids)))

    def preprocess(self, item: str, tokenizer_kwargs: dict | None = None, **_) -> list[dict]:
        """A text holding at least one mask token -> one feature."""
        feature = self.tokenizer(item, **(tokenizer_kwargs or {}))
        if self.tokenizer.mask_token_id not in feature["input_ids"]:
            raise ValueError(f"No mask_token ({self.tokenizer.mask_token}) found on the input: {item!r}")
        return [feature]

    def _forward(self, model_inputs: dict) -> dict:
        """``(batch, seq)`` ids -> ``logits (batch, seq, vocab_size)``."""
        return {"logits": self.model(**model_inputs).logits}

    def postprocess(self, features_and_outputs, top_k: int | None = 5, target_ids: np.ndarray | None = None, **_):
        """One text's logits -> ``top_k`` candidates per mask (a flat list when the text has one mask)."""
        [(feature, outputs)] = features_and_outputs
        input_ids = np.asarray(feature["input_ids"])
        mask_positions = np.flatnonzero(input_ids == self.tokenizer.mask_token_id)
        probs = softmax(np.asarray(outputs["logits"][mask_positions], dtype=np.float32))  # (n_masks, vocab)
        candidates = np.arange(probs.shape[-1]) if target_ids is None else target_ids
        probs = probs[:, candidates]
        top_k = min(5 if top_k is None else top_k, len(candidates))
        single_mask = len(mask_positions) == 1
        ranked_per_mask = []
        for position, mask_probs in zip(mask_positions, probs, strict=True):
            best = np.argsort(-mask_probs, kind="stable")[:top_k]
            ranked_per_mask.append(
                [self._candidate(input_ids, position, int(candidates[i]), mask_probs[i], single_mask) for i in best]
            )
        return ranked_per_mask[0] if single_mask else ranked_per_mask

    def _candidate(self, input_ids: np.ndarray, position: int, token: int, score: float, single_mask: bool) -> dict:
        filled = input_ids.copy()
        filled[position] = token
        filled = filled[filled != self.tokenizer.pad_token_id]
        # With several masks the other [MASK]s must stay visible, so special tokens are kept ([CLS] too).
        sequence = self.tokenizer.decode(filled.tolist(), skip_special_tokens=single_mask)
        return {
            "score": float(score),
            "token": token,
            "token_str": self.tokenizer.decode([token]),
            "sequence": sequence,
        }
