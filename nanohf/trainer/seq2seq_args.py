"""Seq2SeqTrainingArguments: TrainingArguments plus how Seq2SeqTrainer generates when it evaluates.

    args = Seq2SeqTrainingArguments("out", eval_strategy="epoch", predict_with_generate=True,
                                    generation_max_length=64, generation_num_beams=4)

The five extra parameters are transformers 5's, in the same order with the same defaults:

- ``predict_with_generate``: evaluate/predict call ``model.generate`` and return the generated token ids as
  the predictions (the way to compute BLEU or ROUGE); otherwise they return the logits, as Trainer does.
- ``generation_max_length`` / ``generation_num_beams``: the ``max_length`` / ``num_beams`` that evaluate and
  predict pass to ``generate`` when the call itself gives none (``trainer.evaluate(max_length=..)`` wins).
- ``generation_config``: a ``GenerationConfig``, or a folder (or a ``generation_config.json`` file) to read one
  from; it replaces the model's generation config when the Seq2SeqTrainer is made.
- ``sortish_sampler``: accepted, and — as in transformers 5, whose Trainer no longer reads it — it changes
  nothing (Seq2SeqTrainer warns). ``train_sampling_strategy="group_by_length"`` is the way to batch similar
  lengths together.
"""

from dataclasses import asdict, dataclass
from pathlib import Path

from nanohf.generation import GenerationConfig
from nanohf.trainer.training_args import TrainingArguments


@dataclass(repr=False)
class Seq2SeqTrainingArguments(TrainingArguments):
    sortish_sampler: bool = False  # no effect (transformers 5 ignores it too)
    predict_with_generate: bool = False
    generation_max_length: int | None = None
    generation_num_beams: int | None = None
    generation_config: str | Path | GenerationConfig | None = None

    def __post_init__(self):
        super().__post_init__()
        for name in ("generation_max_length", "generation_num_beams"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        if self.generation_config is not None and not isinstance(self.generation_config, str | Path |
                                                                 GenerationConfig):  # fmt: skip
            raise TypeError(
                f"generation_config must be a GenerationConfig, a folder or a file path, got "
                f"{type(self.generation_config).__name__}"
            )

    def to_dict(self) -> dict:
        """As TrainingArguments.to_dict, with a GenerationConfig written out as its dict (JSON-ready)."""
        out = super().to_dict()
        for key, value in out.items():
            if isinstance(value, GenerationConfig):
                out[key] = asdict(value)
        return out
