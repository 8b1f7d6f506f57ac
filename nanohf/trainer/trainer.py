"""Trainer: the course's training loop, packaged — batching, optimizer, schedule, accumulation, clipping,
logging, evaluation, checkpoints and exact resume, with transformers 5's methods to override.

    trainer = Trainer(model, TrainingArguments("out", eval_strategy="epoch"), train_dataset=...,
                      eval_dataset=..., processing_class=tokenizer, compute_metrics=compute_metrics)
    trainer.train()
    predictions, label_ids, metrics = trainer.predict(test_dataset)

The methods a subclass overrides are the ones transformers' Trainer calls, in the same places:
``train`` (nanohf/trainer/loop.py) calls ``training_step``, which calls ``compute_loss``; ``evaluate`` and
``predict`` (nanohf/trainer/prediction.py) call ``prediction_step``, which calls ``compute_loss`` too — so
a custom loss (chapter 7.6's weighted loss) changes both the training and the evaluation loss. A custom
``compute_loss`` returns a ``nanohf.autograd.Loss``: a value and the way back into the model
(``Loss(value, lambda d: model.backward(d_logits(d)))``), since nanohf has no autograd tape.

Launched under MPI (``mpiexec -n W python train.py``, see nanohf.distributed), the same script trains
data-parallel: each rank takes its shard of every epoch (batch ``per_device_train_batch_size`` each), the
gradients are averaged over the ranks before clipping, logged losses are averaged over the ranks,
evaluation predicts on shards and computes the metrics on everyone's gathered predictions, and only
rank 0 (``is_world_process_zero()``) shows progress bars and writes checkpoints. A checkpoint resumes with
any number of ranks.
"""

import inspect
import logging
import time
import warnings
from pathlib import Path

import numpy as np

from nanohf import distributed as dist
from nanohf.autograd import no_grad
from nanohf.data.collators import DataCollatorWithPadding, default_data_collator
from nanohf.data.dataloader import DataLoader
from nanohf.random import set_seed
from nanohf.trainer import args_support, loop, optimization, prediction, reporting
from nanohf.trainer import checkpoint as ckpt
from nanohf.trainer.callbacks import CallbackHandler, TrainerCallback, TrainerControl, TrainerState
from nanohf.trainer.label_smoothing import LabelSmoother
from nanohf.trainer.loop import TrainOutput
from nanohf.trainer.prediction import PredictionOutput
from nanohf.trainer.training_args import TrainingArguments

__all__ = ["PredictionOutput", "TrainOutput", "Trainer"]


class Trainer:
    def __init__(self, model=None, args: TrainingArguments | None = None, data_collator=None, train_dataset=None,
                 eval_dataset=None, processing_class=None, model_init=None, compute_loss_func=None,
                 compute_metrics=None, callbacks: list[TrainerCallback] | None = None, optimizers=(None, None),
                 optimizer_cls_and_kwargs: tuple[type, dict] | None = None, preprocess_logits_for_metrics=None,
                 *, tokenizer=None):  # fmt: skip
        self.args = args if args is not None else TrainingArguments(output_dir="trainer_output")
        args = self.args
        set_seed(args.seed)  # full_determinism: nanohf's CPU kernels give the same numbers run to run anyway
        if args.log_level != "passive" or not args.should_log:
            logging.getLogger("nanohf").setLevel(args.get_process_log_level())
        self.model_init = model_init
        if model is None:
            if model_init is None:
                raise RuntimeError("`Trainer` requires either a `model` or `model_init` argument")
            model = self.call_model_init()
        elif model_init is not None:
            raise ValueError("`Trainer` requires either a `model` or `model_init` argument, but not both.")
        self.model = model
        args_support.check_at_init(args)
        if args.should_save:  # as transformers: a bad output_dir fails here, not after the first hour of training
            ckpt.make_output_dir(args.output_dir)
        self.world = dist.get_world()
        # transformers 5 names it processing_class; tokenizer= (transformers 4) is still taken here.
        self.processing_class = processing_class if processing_class is not None else tokenizer
        if data_collator is None:
            has_pad = hasattr(self.processing_class, "pad")
            data_collator = DataCollatorWithPadding(self.processing_class) if has_pad else default_data_collator
        self.data_collator = data_collator
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        self.compute_loss_func = compute_loss_func
        self.compute_metrics = compute_metrics
        self.preprocess_logits_for_metrics = preprocess_logits_for_metrics
        self.optimizer, self.lr_scheduler = optimizers
        self.optimizer_cls_and_kwargs = optimizer_cls_and_kwargs
        self.label_names = find_labels(model) if args.label_names is None else list(args.label_names)
        self.label_smoother = None
        if args.label_smoothing_factor != 0:
            if getattr(getattr(model, "config", None), "problem_type", None) == "multi_label_classification":
                warnings.warn("Label smoothing is not compatible with multi-label classification. Disabling label "
                              "smoothing for this training run.", UserWarning, stacklevel=2)  # fmt: skip
            else:
                self.label_smoother = LabelSmoother(epsilon=args.label_smoothing_factor)
        self.callback_handler = CallbackHandler(callbacks)
        self.control = TrainerControl()
        self.state = TrainerState(is_local_process_zero=self.is_local_process_zero(),
                                  is_world_process_zero=self.is_world_process_zero())  # fmt: skip
        self.is_in_train = False
        self.current_gradient_accumulation_steps = 1
        self._epoch_index, self._grad_norm, self._tr_loss, self._tr_updates = 0, None, 0.0, 0
        if getattr(model, "config", None) is not None:
            model.config.use_cache = args.use_cache  # as transformers (it matters to models with a KV cache)
        self._event("on_init_end")

    @property
    def tokenizer(self):
        return self.processing_class

    @property
    def callbacks(self) -> list[TrainerCallback]:
        return self.callback_handler.callbacks

    def call_model_init(self, trial=None):
        if trial is not None:
            raise NotImplementedError("call_model_init(trial=...): nanohf has no hyperparameter search")
        model = self.model_init()
        if model is None:
            raise RuntimeError("model_init should not return None.")
        return model

    # --- data ---------------------------------------------------------------------------------------
    def _collate(self, examples: list[dict]) -> dict:
        """Drop columns the model's forward does not take (as transformers' remove_unused_columns)."""
        if self.args.remove_unused_columns:
            accepted = set(inspect.signature(self.model.forward).parameters)
            accepted |= {"label", "label_ids", *self.label_names}
            examples = [{k: v for k, v in example.items() if k in accepted} for example in examples]
        return self.data_collator(examples)

    def get_train_dataloader(self) -> DataLoader:
        """Batches of ``per_device_train_batch_size``, in the order ``train_sampling_strategy`` says: "random"
        (a new shuffle each epoch, seeded by ``data_seed`` or else ``seed``), "sequential", or
        "group_by_length" (shuffled, then similar lengths together: the ``length_column_name`` column, or the
        length of ``input_ids``)."""
        if self.train_dataset is None:
            raise ValueError("Trainer: training requires a train_dataset.")
        args, dataset = self.args, self.train_dataset
        lengths = None
        if args.train_sampling_strategy == "group_by_length":
            columns = getattr(dataset, "column_names", None) or []
            has_lengths = args.length_column_name in columns
            lengths = list(dataset[args.length_column_name]) if has_lengths else [len(x) for x in dataset["input_ids"]]
        seed = args.data_seed if args.data_seed is not None else args.seed
        shuffle = args.train_sampling_strategy != "sequential"
        return DataLoader(dataset, args.per_device_train_batch_size, shuffle=shuffle, seed=seed,
                          drop_last=args.dataloader_drop_last, collate_fn=self._collate, lengths=lengths,
                          num_shards=self.world.size, shard_index=self.world.rank)  # fmt: skip

    def get_eval_dataloader(self, eval_dataset=None) -> DataLoader:
        """``eval_dataset``: a data set, the name of one of ``self.eval_dataset``'s (a dict), or None (the
        Trainer's)."""
        if eval_dataset is None and self.eval_dataset is None:
            raise ValueError("Trainer: evaluation requires an eval_dataset.")
        if isinstance(eval_dataset, str):
            eval_dataset = self.eval_dataset[eval_dataset]
        return self._prediction_dataloader(eval_dataset if eval_dataset is not None else self.eval_dataset)

    def get_test_dataloader(self, test_dataset) -> DataLoader:
        return self._prediction_dataloader(test_dataset)

    def _prediction_dataloader(self, dataset) -> DataLoader:
        return DataLoader(dataset, self.args.per_device_eval_batch_size, collate_fn=self._collate,
                          drop_last=self.args.dataloader_drop_last, num_shards=self.world.size,
                          shard_index=self.world.rank)  # fmt: skip

    def num_examples(self, dataloader: DataLoader) -> int:
        """Examples in the dataloader's data set (or, without one, batches x batch size)."""
        try:
            return len(dataloader.dataset)
        except (AttributeError, TypeError):
            return len(dataloader) * self.args.per_device_train_batch_size

    # --- optimizer and schedule -------------------------------------------------------------------------
    def create_optimizer_and_scheduler(self, num_training_steps: int) -> None:
        self.create_optimizer()
        self.create_scheduler(num_training_steps=num_training_steps)

    def create_optimizer(self, model=None):
        """``args.optim`` (AdamW by default) over two groups: ``weight_decay`` on the parameters
        ``get_decay_parameter_names`` lists, 0 on the others (biases, LayerNorms). Kept if given."""
        model = self.model if model is None else model
        if self.optimizer is None:
            decay = set(self.get_decay_parameter_names(model))
            named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
            groups = [{"params": [p for n, p in named if n in decay], "weight_decay": self.args.weight_decay},
                      {"params": [p for n, p in named if n not in decay], "weight_decay": 0.0}]  # fmt: skip
            if self.optimizer_cls_and_kwargs is not None:
                cls, kwargs = self.optimizer_cls_and_kwargs
            else:
                cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
            self.optimizer = cls(groups, **kwargs)
        return self.optimizer

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        """``args.lr_scheduler_type`` with ``warmup_steps`` and ``lr_scheduler_kwargs``. Kept if given."""
        if self.lr_scheduler is None:
            optimizer = self.optimizer if optimizer is None else optimizer
            self.lr_scheduler = optimization.make_scheduler(self.args, optimizer, num_training_steps)
        return self.lr_scheduler

    @staticmethod
    def get_optimizer_cls_and_kwargs(args: TrainingArguments, model=None) -> tuple[type, dict]:
        return optimization.get_optimizer_cls_and_kwargs(args, model)

    def get_decay_parameter_names(self, model) -> list[str]:
        """Names of the parameters that get weight decay (see nanohf/trainer/optimization.py for the rule)."""
        return optimization.decay_parameter_names(model)

    def _get_learning_rate(self) -> float:
        return self.lr_scheduler.get_last_lr()[0]

    def get_learning_rates(self) -> list[float]:
        """The current learning rate of each parameter group."""
        if self.optimizer is None:
            raise ValueError("Trainer optimizer is None, please make sure you have setup the optimizer before.")
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_optimizer_group(self, param=None):
        """The parameter group that holds ``param``, or (without one) every group's parameters."""
        if self.optimizer is None:
            raise ValueError("Trainer optimizer is None, please make sure you have setup the optimizer before.")
        if param is not None:
            for group in self.optimizer.param_groups:
                if any(p is param for p in group["params"]):
                    return group
        return [group["params"] for group in self.optimizer.param_groups]

    def get_num_trainable_parameters(self) -> int:
        return sum(p.data.size for p in self.model.parameters() if p.requires_grad)

    # --- training ---------------------------------------------------------------------------------------
    def train(self, resume_from_checkpoint: str | bool | None = None, trial=None,
              ignore_keys_for_eval: list[str] | None = None) -> TrainOutput:  # fmt: skip
        """Train for ``max_steps`` (or ``num_train_epochs``); ``resume_from_checkpoint``: a checkpoint folder,
        or True for the newest in ``output_dir``. See nanohf/trainer/loop.py."""
        if trial is not None:
            raise NotImplementedError("train(trial=...): nanohf has no hyperparameter search; loop over settings")
        return loop.run_training(self, resume_from_checkpoint or None, ignore_keys_for_eval)

    def hyperparameter_search(self, *args, **kwargs):
        raise NotImplementedError(
            "Trainer.hyperparameter_search needs optuna / Ray Tune / wandb sweeps, which nanohf does not integrate; "
            "loop over TrainingArguments settings and compare trainer.evaluate() instead."
        )

    def training_step(self, model, inputs: dict, num_items_in_batch: int | None = None) -> np.floating:
        """One forward and backward on ``inputs``: ``compute_loss``, divided by the number of batches in the
        update (unless ``compute_loss_func`` normalised it over the whole update), then ``backward()``.
        Returns the (divided) loss value."""
        model.train()
        loss = self.compute_loss(model, inputs, num_items_in_batch=num_items_in_batch)
        if not hasattr(loss, "backward"):
            raise TypeError(f"compute_loss returned {type(loss).__name__}; training needs a nanohf.autograd.Loss "
                            "(a value and the way back into the model: Loss(value, backward_fn))")  # fmt: skip
        if not np.isfinite(float(loss)):
            self._raise_non_finite(f"loss became {float(loss)}")
        if self.compute_loss_func is None:  # a per-batch mean: the update's gradient is the mean of its batches'
            loss = loss / self.current_gradient_accumulation_steps
        loss.backward()
        return np.asarray(loss.detach())[()]

    def compute_loss(self, model, inputs: dict, return_outputs: bool = False, num_items_in_batch: int | None = None):
        """The loss of ``model`` on ``inputs``: ``compute_loss_func(outputs, labels)`` if given, else the
        label-smoothed loss (``label_smoothing_factor`` > 0), else the model's own ``outputs.loss``."""
        labels = None
        if (self.label_smoother is not None or self.compute_loss_func is not None) and "labels" in inputs:
            inputs = dict(inputs)
            labels = inputs.pop("labels")
        outputs = model(**inputs)
        if self.compute_loss_func is not None:
            loss = self.compute_loss_func(outputs, labels, num_items_in_batch=num_items_in_batch)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None and self.world.size > 1:
                loss = loss * self.world.size  # normalised by all ranks' items, then averaged over the ranks
        elif labels is not None:
            loss = self.label_smoother(outputs, labels, shift_labels=is_causal_lm(model),
                                       num_items_in_batch=num_items_in_batch, backward=model.backward)  # fmt: skip
        else:
            if hasattr(outputs, "keys") and "loss" not in outputs:
                raise ValueError(
                    "The model did not return a loss from the inputs, only the following keys: "
                    f"{','.join(outputs.keys())}. For reference, the inputs it received are {','.join(inputs.keys())}."
                )
            loss = outputs["loss"] if hasattr(outputs, "keys") else outputs[0]
        return (loss, outputs) if return_outputs else loss

    def _num_items_in_batch(self, batches: list[dict]) -> int | None:
        """Labels that count (not -100) in one update's batches — only for ``compute_loss_func``, which
        normalises by them (nanohf's models take no ``num_items_in_batch``, as transformers checks)."""
        if self.compute_loss_func is None or not batches or "labels" not in batches[0]:
            return None
        shift = is_causal_lm(self.model)
        count = 0
        for batch in batches:
            labels = np.asarray(batch["labels"])
            count += int(((labels[..., 1:] if shift else labels) != -100).sum())
        if self.args.average_tokens_across_devices and self.world.size > 1:
            count = int(dist.all_reduce([count])[0])
        return count

    def _track_num_input_tokens(self, inputs: dict) -> None:
        mode = self.args.include_num_input_tokens_seen
        main = getattr(self.model, "main_input_name", "input_ids")
        if mode == "no" or main not in inputs:
            return
        ids = np.asarray(inputs[main])
        pad = getattr(self.processing_class, "pad_token_id", None)
        if mode == "non_padding" and "attention_mask" in inputs:
            tokens = int(np.asarray(inputs["attention_mask"]).sum())
        elif mode == "non_padding" and pad is not None:
            tokens = int((ids != pad).sum())
        else:
            tokens = int(ids.size)
        if self.world.size > 1:
            tokens = int(dist.all_reduce([tokens])[0])
        self.state.num_input_tokens_seen += tokens

    def _raise_non_finite(self, what: str) -> None:
        """Stop training: nothing non-finite reaches the weights or a checkpoint; name the last good one."""
        last = ckpt.sorted_checkpoints(self.args.output_dir)
        raise FloatingPointError(
            f"{what} at step {self.state.global_step + 1} (epoch {self._epoch_index}); training stopped before the "
            f"update. Last good checkpoint: {last[-1] if last else 'none saved'}. Try a lower learning_rate or "
            f"max_grad_norm, or look for bad inputs or labels."
        )

    # --- evaluation -------------------------------------------------------------------------------------
    def evaluate(self, eval_dataset=None, ignore_keys: list[str] | None = None,
                 metric_key_prefix: str = "eval") -> dict:  # fmt: skip
        """The metrics on ``eval_dataset`` (default: the Trainer's): ``{prefix}_loss``, ``compute_metrics``'
        results and the speed; a dict of data sets gives each one's metrics, prefixed with its name."""
        override = eval_dataset is not None
        dataset = eval_dataset if override else self.eval_dataset
        if isinstance(dataset, dict):
            metrics = {}
            for name, part in dataset.items():
                metrics.update(self.evaluate(part if override else name, ignore_keys, f"{metric_key_prefix}_{name}"))
            return metrics
        loader = self.get_eval_dataloader(eval_dataset)
        start = time.time()
        output = prediction.evaluation_loop(self, loader, "Evaluation",
                                            prediction_loss_only=True if self.compute_metrics is None else None,
                                            ignore_keys=ignore_keys, metric_key_prefix=metric_key_prefix)  # fmt: skip
        steps = -(-output.num_samples // max(self.args.eval_batch_size * self.world.size, 1))
        output.metrics.update(prediction.speed_metrics(metric_key_prefix, start, output.num_samples, steps))
        self.log(output.metrics)
        self._event("on_evaluate", metrics=output.metrics)
        return output.metrics

    def predict(self, test_dataset, ignore_keys: list[str] | None = None, metric_key_prefix: str = "test"):
        """``PredictionOutput(predictions, label_ids, metrics)``, a named tuple; with several model outputs
        (question answering) ``predictions`` is a tuple of arrays, as in transformers."""
        loader = self.get_test_dataloader(test_dataset)
        start = time.time()
        output = prediction.evaluation_loop(self, loader, "Prediction", ignore_keys=ignore_keys,
                                            metric_key_prefix=metric_key_prefix)  # fmt: skip
        steps = -(-output.num_samples // max(self.args.eval_batch_size * self.world.size, 1))
        output.metrics.update(prediction.speed_metrics(metric_key_prefix, start, output.num_samples, steps))
        self._event("on_predict", metrics=output.metrics)
        return PredictionOutput(output.predictions, output.label_ids, output.metrics)

    def prediction_step(self, model, inputs: dict, prediction_loss_only: bool, ignore_keys: list[str] | None = None):
        """``(loss, logits, labels)`` of one batch, without gradients. ``logits``: every output but the loss
        (and ``ignore_keys``; default: the config's ``keys_to_ignore_at_inference``, else past_key_values), one
        array if there is one; ``labels``: the ``label_names`` columns (a tuple if several)."""
        has_labels = bool(self.label_names) and all(inputs.get(k) is not None for k in self.label_names)
        if ignore_keys is None:
            ignore_keys = list(getattr(getattr(self.model, "config", None), "keys_to_ignore_at_inference",
                                       ["past_key_values"]))  # fmt: skip
        labels = None
        if has_labels:
            labels = tuple(np.asarray(inputs[name]) for name in self.label_names)
            labels = labels[0] if len(labels) == 1 else labels
        with no_grad():
            if has_labels:
                loss, outputs = self.compute_loss(model, inputs, return_outputs=True)
                loss = np.float32(float(loss))
                skip = [*ignore_keys, "loss"]
            else:
                loss, outputs, skip = None, model(**inputs), ignore_keys
        if prediction_loss_only:
            return loss, None, None
        if hasattr(outputs, "items"):
            logits = tuple(v for k, v in outputs.items() if k not in skip)
        else:
            logits = tuple(outputs[1:] if has_labels else outputs)
        return loss, logits[0] if len(logits) == 1 else logits, labels

    def _evaluate_during_training(self, ignore_keys=None) -> bool:
        """Evaluate; with ``metric_for_best_model``, record a new best (returns whether it is one)."""
        metrics = self.evaluate(ignore_keys=ignore_keys)
        if self.args.metric_for_best_model is None:
            return False
        name = self.args.metric_for_best_model
        key = name if name.startswith("eval_") else f"eval_{name}"
        if key not in metrics:
            raise KeyError(
                f"The `metric_for_best_model` training argument is set to '{key}', which is not found in the "
                f"evaluation metrics. The available evaluation metrics are: {list(metrics)}. Consider changing the "
                "`metric_for_best_model` via the TrainingArguments."
            )
        better = np.greater if self.args.greater_is_better else np.less
        if self.state.best_metric is None or better(metrics[key], self.state.best_metric):
            self.state.best_metric, self.state.best_global_step = float(metrics[key]), self.state.global_step
            return True
        return False

    # --- logs, metrics files ------------------------------------------------------------------------------
    def log(self, logs: dict, start_time: float | None = None) -> None:
        """Add ``logs`` (with the epoch and step) to ``state.log_history`` and tell the callbacks (on_log)."""
        if self.state.epoch is not None:
            logs["epoch"] = self.state.epoch
        if self.args.include_num_input_tokens_seen != "no":
            logs["num_input_tokens_seen"] = self.state.num_input_tokens_seen
        self.state.log_history.append({**logs, "step": self.state.global_step})
        self._event("on_log", logs=logs)

    def log_metrics(self, split: str, metrics: dict) -> None:
        reporting.log_metrics(self, split, metrics)

    def save_metrics(self, split: str, metrics: dict, combined: bool = True) -> None:
        reporting.save_metrics(self, split, metrics, combined)

    def save_state(self) -> None:
        """``output_dir/trainer_state.json`` (rank 0)."""
        if self.is_world_process_zero():
            Path(self.args.output_dir).mkdir(parents=True, exist_ok=True)
            self.state.save_to_json(Path(self.args.output_dir) / "trainer_state.json")

    # --- checkpoints --------------------------------------------------------------------------------------
    def _save_checkpoint(self) -> None:
        ckpt.save_trainer_checkpoint(self)
        self._event("on_save")

    def _resume(self, resume_from_checkpoint: str | bool) -> None:
        ckpt.resume_trainer(self, resume_from_checkpoint)

    def _load_weights(self, folder) -> None:
        ckpt.load_weights(self.model, folder)

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """The model (and ``processing_class``) with ``save_pretrained``, and training_args.json; rank 0 writes."""
        output_dir = output_dir or self.args.output_dir
        if self.is_world_process_zero():  # the weights are the same on every rank: one writer
            try:
                self.model.save_pretrained(output_dir)
                if self.processing_class is not None and hasattr(self.processing_class, "save_pretrained"):
                    self.processing_class.save_pretrained(output_dir)
                ckpt.write_text_atomic(Path(output_dir) / "training_args.json", self.args.to_json_string())
            except OSError as err:  # a full disk, a read-only folder: say where
                raise ckpt.named_os_error(err, f"could not save the model in {output_dir} ({err})") from err
        dist.barrier("barrier after rank 0 saved the model")

    def push_to_hub(self, commit_message: str | None = "End of training", blocking: bool = True,
                    token: str | None = None, revision: str | None = None, private: bool | None = None,
                    **kwargs):  # fmt: skip
        raise ConnectionError(
            "Trainer.push_to_hub: nanohf works offline and never uploads to the Hugging Face Hub. Save with "
            "trainer.save_model(folder) and upload the folder with huggingface_hub yourself."
        )

    # --- processes and callbacks ------------------------------------------------------------------------
    def is_local_process_zero(self) -> bool:
        """True in one process; under MPI, for the first rank on each machine."""
        return self.args.local_process_index == 0

    def is_world_process_zero(self) -> bool:
        """True in one process; under MPI, for rank 0 only (the one that saves)."""
        return self.args.process_index == 0

    def add_callback(self, callback) -> None:
        self.callback_handler.add_callback(callback)

    def pop_callback(self, callback) -> TrainerCallback | None:
        return self.callback_handler.pop_callback(callback)

    def remove_callback(self, callback) -> None:
        self.callback_handler.remove_callback(callback)

    def callback_kwargs(self) -> dict:
        return {"model": self.model, "processing_class": self.processing_class, "optimizer": self.optimizer,
                "lr_scheduler": self.lr_scheduler}  # fmt: skip

    def _event(self, name: str, **kwargs) -> None:
        self.control = self.callback_handler.call_event(name, self.args, self.state, self.control,
                                                        **self.callback_kwargs(), **kwargs)  # fmt: skip


def find_labels(model) -> list[str]:
    """The label arguments of ``model.forward``: those with "label" in their name, and question answering's
    ``start_positions`` / ``end_positions`` (as transformers' find_labels reads the signature)."""
    names = inspect.signature(model.forward).parameters
    return [n for n in names if "label" in n or n in ("start_positions", "end_positions")]


def is_causal_lm(model) -> bool:
    """A model registered with AutoModelForCausalLM, whose loss predicts token t+1 from position t."""
    from nanohf.models.auto import AutoModelForCausalLM

    return type(model).__name__ in AutoModelForCausalLM._model_mapping.values()
