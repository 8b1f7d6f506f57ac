"""Seq2SeqTrainer: the Trainer for encoder-decoder models, whose evaluation can generate (chapter 7's
translation and summarization sections).

    args = Seq2SeqTrainingArguments("out", predict_with_generate=True, generation_max_length=64)
    trainer = Seq2SeqTrainer(model, args, train_dataset=..., eval_dataset=...,
                             data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
                             processing_class=tokenizer, compute_metrics=compute_metrics)
    trainer.evaluate(max_length=64, num_beams=4)   # generate settings for this call only

Training is exactly Trainer's. What changes is ``prediction_step`` when ``predict_with_generate`` is on: the
predictions are ``model.generate(input_ids, attention_mask, **gen_kwargs)`` — token ids, ready for
``tokenizer.batch_decode`` and BLEU/ROUGE — instead of logits, and the loss is still the teacher-forced
loss of the same batch. Shapes, as transformers makes them:

- each batch's generated ids (and its labels) shorter than the generation config's ``max_length`` (20 when
  unset) are padded on the right up to it with the pad id (the tokenizer's, else its eos; else the model
  config's) — so batches usually line up;
- batches that still differ in length are joined by the evaluation loop, which pads with -100 — so
  ``compute_metrics`` replaces -100 before decoding (``np.where(labels != -100, labels, pad_id)``), as the
  course does for the labels.

One transformers quirk is kept on purpose, for the same predictions: the first generating step fills the
model's generation config's unset ``max_length`` with 20. A first ``generate`` without a length adds 20
tokens after the decoder start (21 ids), every later one stops at 20 ids in all.

The evaluation loss is the mean over the examples, as Trainer's. transformers' Seq2SeqTrainer gathers the
losses with ``accelerator.gather`` where Trainer uses ``gather_for_metrics``, so a smaller last batch weighs
there as much as a full one; with full batches (or one batch) the two are the same number.

Before a data set is batched, its rows are checked against the model's position table: a source or target
longer than ``config.max_position_embeddings`` fails naming the data set and the row, not deep in the model.
"""

import copy
import warnings
from pathlib import Path

import numpy as np

from nanohf.autograd import no_grad
from nanohf.data.collator_seq2seq import check_fits_positions
from nanohf.generation import GENERATION_CONFIG_NAME, GenerationConfig
from nanohf.jsonfile import read_json
from nanohf.trainer.trainer import Trainer

__all__ = ["Seq2SeqTrainer"]

DEFAULT_MAX_LENGTH = 20  # transformers' GenerationConfig default max_length, filled in when unset


class Seq2SeqTrainer(Trainer):
    def __init__(self, model=None, args=None, data_collator=None, train_dataset=None, eval_dataset=None,
                 processing_class=None, model_init=None, compute_loss_func=None, compute_metrics=None,
                 callbacks=None, optimizers=(None, None), preprocess_logits_for_metrics=None, *,
                 tokenizer=None):  # fmt: skip
        if args is None:
            from nanohf.trainer.seq2seq_args import Seq2SeqTrainingArguments

            args = Seq2SeqTrainingArguments(output_dir="trainer_output")
        super().__init__(model=model, args=args, data_collator=data_collator, train_dataset=train_dataset,
                         eval_dataset=eval_dataset, processing_class=processing_class, model_init=model_init,
                         compute_loss_func=compute_loss_func, compute_metrics=compute_metrics, callbacks=callbacks,
                         optimizers=optimizers, preprocess_logits_for_metrics=preprocess_logits_for_metrics,
                         tokenizer=tokenizer)  # fmt: skip
        if getattr(self.args, "sortish_sampler", False):
            warnings.warn("sortish_sampler=True has no effect (transformers 5's Trainer does not read it either); "
                          "use train_sampling_strategy='group_by_length' to batch similar lengths together.",
                          UserWarning, stacklevel=2)  # fmt: skip
        if getattr(self.args, "generation_config", None) is not None:
            self.model.generation_config = self.load_generation_config(self.args.generation_config)

    @staticmethod
    def load_generation_config(gen_config_arg: "str | Path | GenerationConfig") -> GenerationConfig:
        """A copy of a GenerationConfig, or one read from a folder's generation_config.json or from a JSON file;
        validated (an invalid one fails here, before training)."""
        if isinstance(gen_config_arg, GenerationConfig):
            config = copy.deepcopy(gen_config_arg)
        else:
            path = Path(gen_config_arg)
            file = path if path.is_file() else path / GENERATION_CONFIG_NAME
            if not file.is_file():
                raise OSError(
                    f"generation_config={str(gen_config_arg)!r}: no such file or folder with a "
                    f"{GENERATION_CONFIG_NAME} (nanohf reads local files only; it never downloads)."
                )
            saved = read_json(file)
            known = {k: v for k, v in saved.items() if k in GenerationConfig.__dataclass_fields__}
            config = GenerationConfig().update(**known)
        try:
            config.validate()
        except ValueError as exc:
            raise ValueError(f"{exc}\n\nFix these issues to train your model.") from exc
        return config

    # --- rows that cannot fit the model ---------------------------------------------------------------------
    def check_lengths(self, dataset, name: str) -> None:
        """Raise if a row's input_ids or labels are longer than the model's ``max_position_embeddings``."""
        if dataset is None:
            return
        names = getattr(dataset, "column_names", None)
        if names is not None:  # a Dataset: read whole columns
            columns = {column: dataset[column] for column in ("input_ids", "labels") if column in names}
        else:  # a list of dicts
            columns = {column: [row.get(column) for row in dataset] for column in ("input_ids", "labels")}
        check_fits_positions(self.model, columns, f"{name} row")

    def get_train_dataloader(self):
        self.check_lengths(self.train_dataset, "train_dataset")
        return super().get_train_dataloader()

    def _prediction_dataloader(self, dataset):
        self.check_lengths(dataset, "the evaluation data set")
        return super()._prediction_dataloader(dataset)

    # --- evaluation with generate -----------------------------------------------------------------------------
    def _set_gen_kwargs(self, gen_kwargs: dict) -> None:
        """The call's generate settings, with generation_max_length / generation_num_beams as defaults."""
        gen_kwargs = dict(gen_kwargs)
        max_length = getattr(self.args, "generation_max_length", None)
        if gen_kwargs.get("max_length") is None and gen_kwargs.get("max_new_tokens") is None and max_length:
            gen_kwargs["max_length"] = max_length
        num_beams = getattr(self.args, "generation_num_beams", None)
        if gen_kwargs.get("num_beams") is None and num_beams is not None:
            gen_kwargs["num_beams"] = num_beams
        self._gen_kwargs = gen_kwargs

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval", **gen_kwargs) -> dict:
        """Trainer.evaluate; with ``predict_with_generate``, the predictions come from ``generate(**gen_kwargs)``
        (``max_length``, ``num_beams``, ... for this call; else the arguments' generation_* values)."""
        self._set_gen_kwargs(gen_kwargs)
        return super().evaluate(eval_dataset, ignore_keys=ignore_keys, metric_key_prefix=metric_key_prefix)

    def predict(self, test_dataset, ignore_keys=None, metric_key_prefix: str = "test", **gen_kwargs):
        """Trainer.predict; with ``predict_with_generate``, ``predictions`` are generated ids (batch, length),
        padded as the module docstring says."""
        self._set_gen_kwargs(gen_kwargs)
        return super().predict(test_dataset, ignore_keys=ignore_keys, metric_key_prefix=metric_key_prefix)

    def prediction_step(self, model, inputs: dict, prediction_loss_only: bool, ignore_keys=None, **gen_kwargs):
        """``(loss, generated_ids, labels)`` with ``predict_with_generate`` (else Trainer's ``(loss, logits,
        labels)``). ``generated_ids (batch, >= max_length)``; ``labels`` padded to the same ``max_length``."""
        if not getattr(self.args, "predict_with_generate", False) or prediction_loss_only:
            return super().prediction_step(model, inputs, prediction_loss_only=prediction_loss_only,
                                           ignore_keys=ignore_keys)  # fmt: skip
        has_labels = inputs.get("labels") is not None
        if not gen_kwargs:
            gen_kwargs = dict(getattr(self, "_gen_kwargs", {}))
        gen_kwargs = {k: v for k, v in gen_kwargs.items() if not (k in ("num_beams", "max_length") and v is None)}
        generation_inputs = {k: v for k, v in inputs.items() if k != "labels"}
        decoder_ids = generation_inputs.get("decoder_input_ids")
        if decoder_ids is not None and has_labels and np.shape(decoder_ids) == np.shape(inputs["labels"]):
            # The collator's teacher-forcing inputs (shifted labels): generate starts from the start token.
            generation_inputs.pop("decoder_input_ids")
            generation_inputs.pop("decoder_attention_mask", None)
        extra = sorted(set(generation_inputs) - {"input_ids", "attention_mask"})
        if extra:
            raise NotImplementedError(
                f"Seq2SeqTrainer: nanohf's generate takes input_ids and attention_mask only; "
                f"the batch also has {extra} (a decoder prompt is not supported)."
            )
        generated = model.generate(**generation_inputs, **gen_kwargs)

        # As transformers, the model's generation config gets the default max_length once a step has generated.
        gen_config = model.generation_config
        if gen_config.max_length is None:
            gen_config = model.generation_config = gen_config.update(max_length=DEFAULT_MAX_LENGTH)
        generated = self._pad_to_generation_length(generated, gen_config)

        loss = None
        if has_labels:
            with no_grad():
                outputs = model(**inputs)
                if self.label_smoother is not None:
                    loss = self.label_smoother(outputs, inputs["labels"])
                else:
                    loss = outputs["loss"] if hasattr(outputs, "keys") else outputs[0]
            loss = np.float32(float(loss))
        if self.args.prediction_loss_only:
            return loss, None, None
        labels = self._pad_to_generation_length(np.asarray(inputs["labels"]), gen_config) if has_labels else None
        return loss, generated, labels

    def _pad_to_generation_length(self, ids: np.ndarray, gen_config: GenerationConfig) -> np.ndarray:
        """Right-pad (batch, n) ids with the pad id up to max_length (or max_new_tokens + 1) when shorter."""
        if ids.shape[-1] < gen_config.max_length:
            return self._pad_tensors_to_max_len(ids, gen_config.max_length)
        if gen_config.max_new_tokens is not None and ids.shape[-1] < gen_config.max_new_tokens + 1:
            return self._pad_tensors_to_max_len(ids, gen_config.max_new_tokens + 1)
        return ids

    def _pad_tensors_to_max_len(self, tensor: np.ndarray, max_length: int) -> np.ndarray:
        """``(batch, n)`` -> ``(batch, max_length)``, filled with the tokenizer's pad id (else its eos id, else the
        model config's pad id)."""
        tokenizer = self.processing_class
        if tokenizer is not None and hasattr(tokenizer, "pad_token_id"):
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        elif getattr(self.model.config, "pad_token_id", None) is not None:
            pad = self.model.config.pad_token_id
        else:
            raise ValueError("Pad_token_id must be set in the configuration of the model, in order to pad tensors")
        tensor = np.asarray(tensor)
        padded = np.full((tensor.shape[0], max_length), pad, dtype=tensor.dtype)
        padded[:, : tensor.shape[-1]] = tensor
        return padded
