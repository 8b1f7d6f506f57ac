"""Trainer: the course's training loop, packaged — batching, AdamW, schedule, accumulation,
clipping, logging, evaluation, checkpoints and exact resume.

    trainer = Trainer(model, TrainingArguments("out", eval_strategy="epoch"), train_dataset=...,
                      eval_dataset=..., processing_class=tokenizer, compute_metrics=compute_metrics)
    trainer.train()

One optimizer step = ``gradient_accumulation_steps`` forward/backward passes, each loss divided by
that number so the summed gradient is the gradient of the mean; then the gradient norm is clipped
to ``max_grad_norm``, AdamW steps, the schedule steps, and the gradients are zeroed.

Launched under MPI (``mpiexec -n W python train.py``, see nanohf.distributed), the same script trains
data-parallel: each rank takes its shard of every epoch (batch ``per_device_train_batch_size`` each), the
gradients are averaged over the ranks before clipping, logged losses are averaged over the ranks,
evaluation predicts on shards and computes the metrics on everyone's gathered predictions, and only
rank 0 shows progress bars and writes checkpoints. A checkpoint resumes with any number of ranks.
"""

import inspect
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from nanohf import distributed as dist
from nanohf.autograd import no_grad
from nanohf.data.collators import DataCollatorWithPadding, default_data_collator
from nanohf.data.dataloader import DataLoader
from nanohf.metrics import EvalPrediction
from nanohf.models.modeling_utils import load_checkpoint
from nanohf.optim import AdamW, clip_grad_norm_, get_scheduler
from nanohf.random import set_seed
from nanohf.trainer import checkpoint as ckpt
from nanohf.trainer.callbacks import TrainerCallback, TrainerControl, TrainerState
from nanohf.trainer.training_args import TrainingArguments


@dataclass
class TrainOutput:
    global_step: int
    training_loss: float
    metrics: dict


@dataclass
class PredictionOutput:
    predictions: np.ndarray
    label_ids: np.ndarray | None
    metrics: dict


class Trainer:
    def __init__(self, model, args: TrainingArguments | None = None, data_collator=None, train_dataset=None,
                 eval_dataset=None, processing_class=None, tokenizer=None, compute_metrics=None,
                 callbacks: list[TrainerCallback] | None = None, optimizers=(None, None)):  # fmt: skip
        self.model = model
        self.args = args or TrainingArguments()
        self.processing_class = processing_class if processing_class is not None else tokenizer
        if data_collator is None:
            has_pad = hasattr(self.processing_class, "pad")
            data_collator = DataCollatorWithPadding(self.processing_class) if has_pad else default_data_collator
        self.data_collator = data_collator
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        self.compute_metrics = compute_metrics
        self.callbacks = list(callbacks or [])
        self.optimizer, self.lr_scheduler = optimizers
        self.state = TrainerState()
        self.control = TrainerControl()
        self.world = dist.get_world()

    # --- data ---------------------------------------------------------------------------------------
    def _collate(self, examples: list[dict]) -> dict:
        """Drop columns the model's forward does not take (as transformers' remove_unused_columns)."""
        if self.args.remove_unused_columns:
            accepted = set(inspect.signature(self.model.forward).parameters)
            accepted |= {"label", "label_ids", *(self.args.label_names or [])}
            examples = [{k: v for k, v in example.items() if k in accepted} for example in examples]
        return self.data_collator(examples)

    def get_train_dataloader(self) -> DataLoader:
        if self.train_dataset is None:
            raise ValueError("Trainer: training requires a train_dataset")
        args = self.args
        lengths = None
        if args.group_by_length:
            lengths = [len(ids) for ids in self.train_dataset["input_ids"]]
        return DataLoader(self.train_dataset, args.per_device_train_batch_size, shuffle=True, seed=args.seed,
                          drop_last=args.dataloader_drop_last, collate_fn=self._collate, lengths=lengths,
                          num_shards=self.world.size, shard_index=self.world.rank)  # fmt: skip

    def get_eval_dataloader(self, dataset) -> DataLoader:
        return DataLoader(dataset, self.args.per_device_eval_batch_size, collate_fn=self._collate,
                          num_shards=self.world.size, shard_index=self.world.rank)  # fmt: skip

    # --- optimizer and schedule -------------------------------------------------------------------------
    def create_optimizer_and_scheduler(self, num_training_steps: int) -> None:
        """AdamW with no weight decay on biases and LayerNorm weights (as transformers), and the schedule."""
        if self.optimizer is None:
            decay, no_decay = [], []
            seen = set()
            for name, param in self.model.named_parameters():
                if not param.requires_grad or id(param) in seen:
                    continue
                seen.add(id(param))
                lowered = name.lower()
                is_norm = "layernorm" in lowered or "layer_norm" in lowered or ".ln_" in lowered or "ln_f" in lowered
                (no_decay if "bias" in lowered or is_norm else decay).append(param)
            args = self.args
            self.optimizer = AdamW(
                [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                lr=args.learning_rate, betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon,
            )  # fmt: skip
        if self.lr_scheduler is None:
            self.lr_scheduler = get_scheduler(self.args.lr_scheduler_type, self.optimizer,
                                              num_warmup_steps=self.args.get_warmup_steps(num_training_steps),
                                              num_training_steps=num_training_steps)  # fmt: skip

    # --- training ---------------------------------------------------------------------------------------
    def train(self, resume_from_checkpoint: str | bool | None = None) -> TrainOutput:
        args = self.args
        set_seed(args.seed)
        dist.broadcast_parameters(self.model.parameters())  # every rank starts from rank 0's weights
        loader = self.get_train_dataloader()
        accumulation = args.gradient_accumulation_steps
        # As transformers: a last group of fewer than `accumulation` batches still makes an update.
        steps_per_epoch = max(math.ceil(len(loader) / accumulation), 1)
        max_steps = args.max_steps if args.max_steps > 0 else math.ceil(args.num_train_epochs * steps_per_epoch)
        num_epochs = math.ceil(max_steps / steps_per_epoch)
        self.create_optimizer_and_scheduler(max_steps)
        self.state = TrainerState(max_steps=max_steps, num_train_epochs=num_epochs,
                                  train_batch_size=args.per_device_train_batch_size)  # fmt: skip
        self.control = TrainerControl()
        if resume_from_checkpoint:
            self._resume(resume_from_checkpoint)
        self.model.train()
        self._event("on_train_begin")
        start, done_steps = time.time(), self.state.global_step
        logged_loss, logged_batches, total_loss, total_batches = 0.0, 0, 0.0, 0
        bar = tqdm(total=max_steps, initial=done_steps, disable=args.disable_tqdm or not self.world.is_main_process,
                   desc="train")  # fmt: skip
        first_epoch = done_steps // steps_per_epoch
        for epoch in range(first_epoch, num_epochs):
            batches = loader.index_batches(epoch)  # the same order as an uninterrupted run would see
            # On resume, skip the batches of this epoch that the checkpointed run already trained on.
            skip = (done_steps - epoch * steps_per_epoch) * accumulation
            for i in range(max(skip, 0), len(batches)):
                group_start = i - i % accumulation
                group_size = min(accumulation, len(batches) - group_start)  # batches in this update
                loss = self.model(**loader.fetch(batches[i])).loss
                if not np.isfinite(float(loss)):
                    bar.close()
                    self._raise_non_finite(f"loss became {float(loss)}", epoch)
                (loss / group_size).backward()  # summed over the group: the gradient of the mean loss
                logged_loss += float(loss)
                logged_batches += 1
                if i + 1 < group_start + group_size:
                    continue
                dist.all_reduce_gradients(self.model.parameters())  # once per update, not per accumulated batch
                grad_norm = clip_grad_norm_(self.model.parameters(), args.max_grad_norm) if args.max_grad_norm else None
                if grad_norm is not None and not np.isfinite(float(grad_norm)):
                    bar.close()
                    self._raise_non_finite(f"the gradient norm became {float(grad_norm)}", epoch)
                self.optimizer.step()
                self.lr_scheduler.step()
                self.optimizer.zero_grad()
                self.state.global_step += 1
                self.state.epoch = epoch + (i + 1) / len(batches)
                bar.update(1)
                lr = self.lr_scheduler.get_last_lr()[0]
                bar.set_postfix(loss=f"{logged_loss / logged_batches:.4f}", lr=f"{lr:.2e}")
                # Reaching max_steps mid-epoch ends the epoch too (its epoch-strategy log/eval/save run).
                epoch_end = (i + 1) == len(batches) or self.state.global_step >= max_steps
                self._step_end(epoch_end=epoch_end, logs=(logged_loss, logged_batches, grad_norm))
                if self.control.should_log:
                    total_loss, total_batches = total_loss + logged_loss, total_batches + logged_batches
                    logged_loss, logged_batches = 0.0, 0
                if self.control.should_training_stop or self.state.global_step >= max_steps:
                    break
            if self.control.should_training_stop or self.state.global_step >= max_steps:
                break
        bar.close()
        totals = dist.all_reduce([total_loss + logged_loss, total_batches + logged_batches])  # over all ranks
        total_loss, total_batches = float(totals[0]), float(totals[1])
        if args.load_best_model_at_end and self.state.best_model_checkpoint:
            self._load_weights(self.state.best_model_checkpoint)
        runtime = time.time() - start
        steps_run = self.state.global_step - done_steps
        metrics = {
            "train_runtime": runtime,
            "train_samples_per_second": steps_run * args.per_device_train_batch_size * args.gradient_accumulation_steps
            * self.world.size / max(runtime, 1e-9),
            "train_steps_per_second": steps_run / max(runtime, 1e-9),
            "train_loss": total_loss / max(total_batches, 1),
            "epoch": self.state.epoch,
        }
        self.state.log_history.append({**metrics, "step": self.state.global_step})
        self._event("on_train_end")
        return TrainOutput(self.state.global_step, metrics["train_loss"], metrics)

    def _step_end(self, epoch_end: bool, logs) -> None:
        """Apply the logging / evaluation / saving strategies after an optimizer step."""
        args, state, control = self.args, self.state, self.control
        step, total = state.global_step, state.max_steps

        def due(strategy: str, every: float) -> bool:
            if strategy == "epoch":
                return epoch_end
            return strategy == "steps" and step % args.steps_from(every, total) == 0

        final = step >= total  # as transformers: a step strategy also evaluates and saves at the last step
        control.should_log = due(args.logging_strategy, args.logging_steps) or (args.logging_first_step and step == 1)
        control.should_evaluate = due(args.eval_strategy, args.eval_steps) or (final and args.eval_strategy == "steps")
        control.should_save = due(args.save_strategy, args.save_steps) or (final and args.save_strategy == "steps")
        self._event("on_step_end")
        if control.should_log:  # decided alike on every rank, so all of them take part in the reduction
            loss_sum, batches, grad_norm = logs
            loss_sum, batches = map(float, dist.all_reduce([loss_sum, batches]))
            entry = {"loss": loss_sum / max(batches, 1), "learning_rate": self.lr_scheduler.get_last_lr()[0],
                     "epoch": state.epoch, "step": step}  # fmt: skip
            if grad_norm is not None:
                entry["grad_norm"] = float(grad_norm)
            state.log_history.append(entry)
            self._event("on_log", logs=entry)
        metrics = self.evaluate() if control.should_evaluate and self.eval_dataset is not None else None
        if control.should_save:
            self._save(metrics)
        if epoch_end:
            self._event("on_epoch_end")

    def _raise_non_finite(self, what: str, epoch: int) -> None:
        """Stop training: nothing non-finite reaches the weights or a checkpoint; name the last good one."""
        last = ckpt.sorted_checkpoints(self.args.output_dir)
        raise FloatingPointError(
            f"{what} at step {self.state.global_step + 1} (epoch {epoch}); training stopped before the update. "
            f"Last good checkpoint: {last[-1] if last else 'none saved'}. Try a lower learning_rate or "
            f"max_grad_norm, or look for bad inputs or labels."
        )

    # --- evaluation -------------------------------------------------------------------------------------
    def evaluate(self, eval_dataset=None, metric_key_prefix: str = "eval") -> dict:
        dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        output = self._prediction_loop(dataset, metric_key_prefix)
        self.state.log_history.append({**output.metrics, "epoch": self.state.epoch, "step": self.state.global_step})
        self._event("on_evaluate", metrics=output.metrics)
        return output.metrics

    def predict(self, test_dataset, metric_key_prefix: str = "test") -> PredictionOutput:
        return self._prediction_loop(test_dataset, metric_key_prefix)

    def _prediction_loop(self, dataset, prefix: str) -> PredictionOutput:
        """Run the model over ``dataset`` without gradients; gather logits, labels and the mean loss.

        Under MPI each rank predicts its shard; the rows repeated to even out the shards are dropped, and
        every rank gets all predictions back in dataset order, so each computes the same metrics (and
        callbacks such as early stopping decide alike everywhere).
        """
        if dataset is None:
            raise ValueError("Trainer: evaluation requires an eval_dataset")
        loader = self.get_eval_dataloader(dataset)
        was_training = self.model.training
        self.model.eval()
        start, loss_sum, loss_rows, all_logits, all_labels, positions = time.time(), 0.0, 0, [], [], []
        with no_grad():
            for i, indices in enumerate(loader.index_batches()):
                # Leave out the examples repeated to even out the shards: no collective runs per batch here,
                # so ranks may do different numbers of batches, and the mean loss stays exact.
                indices = indices[: loader.real_rows(i)]
                if len(indices) == 0:
                    continue
                batch = loader.fetch(indices)
                out = self.model(**batch)
                labels = batch.get("labels")
                logits = out.logits if "logits" in out else np.stack([out.start_logits, out.end_logits], -1)
                all_logits.append(logits)
                positions.append(indices)
                if labels is not None:
                    all_labels.append(np.asarray(labels))
                if out.loss is not None:
                    loss_sum, loss_rows = loss_sum + float(out.loss) * len(logits), loss_rows + len(logits)
        self.model.train(was_training)
        loss_sum, loss_rows = dist.all_reduce([loss_sum, loss_rows])
        if self.world.size > 1:  # everyone's predictions, back in dataset order
            gathered = dist.all_gather_object((positions, all_logits, all_labels))
            positions, all_logits, all_labels = ([x for part in gathered for x in part[k]] for k in range(3))
        order = np.argsort(np.concatenate(positions), kind="stable") if positions else slice(None)
        predictions = _concat_padded(all_logits)[order]
        label_ids = _concat_padded(all_labels)[order] if all_labels else None
        runtime = time.time() - start
        metrics = {}
        if loss_rows > 0:
            metrics[f"{prefix}_loss"] = float(loss_sum / loss_rows)
        if self.compute_metrics is not None and label_ids is not None:
            for key, value in self.compute_metrics(EvalPrediction(predictions, label_ids)).items():
                metrics[key if key.startswith(f"{prefix}_") else f"{prefix}_{key}"] = value
        metrics.update({f"{prefix}_runtime": runtime, f"{prefix}_samples_per_second": len(dataset) / max(runtime, 1e-9),
                        f"{prefix}_steps_per_second": len(loader) / max(runtime, 1e-9)})  # fmt: skip
        return PredictionOutput(predictions, label_ids, metrics)

    # --- checkpoints --------------------------------------------------------------------------------------
    def _save(self, metrics: dict | None) -> None:
        args, state = self.args, self.state
        folder = Path(args.output_dir) / f"{ckpt.PREFIX}{state.global_step}"
        bad = next((name for name, p in self.model.named_parameters() if not np.isfinite(p.data).all()), None)
        if bad is not None:  # never write (nor rotate in) a checkpoint that cannot be resumed from
            last = ckpt.sorted_checkpoints(args.output_dir)
            raise FloatingPointError(
                f"parameter {bad!r} holds NaN or inf at step {state.global_step}: {folder} not saved. "
                f"Last good checkpoint: {last[-1] if last else 'none saved'}."
            )
        # Every rank keeps the same state (best checkpoint included); rank 0 alone writes the folder.
        if metrics is not None and args.metric_for_best_model is not None:
            name = args.metric_for_best_model
            value = metrics.get(name if name.startswith("eval_") else f"eval_{name}")
            if value is not None:
                better = np.greater if args.greater_is_better else np.less
                if state.best_metric is None or better(value, state.best_metric):
                    state.best_metric, state.best_model_checkpoint = float(value), str(folder)
        rng_states = dist.all_gather_object(ckpt.rng_state())  # each rank's dropout stream, for an exact resume
        if self.world.is_main_process:
            ckpt.save_checkpoint(folder, self.model, self.optimizer, self.lr_scheduler, state, args,
                                 self.processing_class)  # fmt: skip
            for rank, rng in enumerate(rng_states[1:], start=1):
                (folder / f"rng_state_{rank}.json").write_text(json.dumps(rng))
            ckpt.rotate_checkpoints(args.output_dir, args.save_total_limit, keep=state.best_model_checkpoint)
        dist.barrier("barrier after rank 0 saved a checkpoint")  # before anyone reads it (load_best_model_at_end)
        self._event("on_save")

    def _resume(self, resume_from_checkpoint: str | bool) -> None:
        if resume_from_checkpoint is True:
            found = ckpt.sorted_checkpoints(self.args.output_dir)
            if not found:
                raise FileNotFoundError(f"resume_from_checkpoint=True but {self.args.output_dir} holds no checkpoint-N")
            folder = found[-1]
        else:
            folder = Path(resume_from_checkpoint)
            if not (folder / "trainer_state.json").is_file():
                raise FileNotFoundError(f"{folder} is not a checkpoint folder (no trainer_state.json)")
        self._load_weights(folder)
        self.optimizer.load_state_dict(ckpt.load_optimizer_state(folder))
        self.lr_scheduler.load_state_dict(json.loads((folder / "scheduler.json").read_text()))
        # A rank without its own file (resuming with more ranks than saved) takes rank 0's generators.
        own_rng = folder / f"rng_state_{self.world.rank}.json"
        ckpt.set_rng_state(json.loads((own_rng if own_rng.is_file() else folder / "rng_state.json").read_text()))
        self.state = TrainerState.from_json((folder / "trainer_state.json").read_text())

    def _load_weights(self, folder) -> None:
        self.model.load_state_dict(load_checkpoint(Path(folder)), strict=False)

    def save_model(self, output_dir: str | None = None) -> None:
        output_dir = output_dir or self.args.output_dir
        if self.world.is_main_process:  # the weights are the same on every rank: one writer
            self.model.save_pretrained(output_dir)
            if self.processing_class is not None and hasattr(self.processing_class, "save_pretrained"):
                self.processing_class.save_pretrained(output_dir)
        dist.barrier("barrier after rank 0 saved the model")

    def _event(self, name: str, **kwargs) -> None:
        for callback in self.callbacks:
            getattr(callback, name)(self.args, self.state, self.control, model=self.model, **kwargs)


def _concat_padded(arrays: list[np.ndarray], pad_value=-100) -> np.ndarray:
    """Stack per-batch arrays along the batch axis, padding the sequence axis (token tasks) with -100."""
    if not arrays:
        return np.zeros((0,))
    if all(a.shape[1:] == arrays[0].shape[1:] for a in arrays):
        return np.concatenate(arrays, axis=0)
    longest = max(a.shape[1] for a in arrays)
    padded = []
    for a in arrays:
        widths = [(0, 0), (0, longest - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
        padded.append(np.pad(a, widths, constant_values=pad_value))
    return np.concatenate(padded, axis=0)
