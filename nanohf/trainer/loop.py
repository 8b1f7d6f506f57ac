"""The training loop of ``Trainer.train``: epochs, accumulation, clipping, the strategies, exact resume.

One optimizer step = ``gradient_accumulation_steps`` calls of ``trainer.training_step`` (forward with
``compute_loss``, loss divided by the number of batches in the group, backward), so the summed gradient is
the gradient of the mean; then the gradients are averaged over MPI ranks, clipped to ``max_grad_norm``,
the optimizer and the schedule step, and the gradients are zeroed. After each step the logging /
evaluation / saving strategies run (``step_end``).
"""

import math
import time
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from nanohf import distributed as dist
from nanohf.optim import clip_grad_norm_
from nanohf.random import set_seed
from nanohf.trainer import args_support
from nanohf.trainer.callbacks import TrainerControl, TrainerState
from nanohf.trainer.prediction import speed_metrics


class TrainOutput(NamedTuple):
    global_step: int
    training_loss: float
    metrics: dict


def run_training(trainer, resume_from_checkpoint=None, ignore_keys_for_eval=None) -> TrainOutput:
    args = trainer.args
    args_support.check_at_train(args)
    trainer.is_in_train = True
    set_seed(args.seed)
    if trainer.model_init is not None:  # a fresh model for this run, drawn after the seed (as transformers)
        trainer.model = trainer.call_model_init()
        trainer.optimizer, trainer.lr_scheduler = None, None
    model = trainer.model
    dist.broadcast_parameters(model.parameters())  # every rank starts from rank 0's weights
    loader = trainer.get_train_dataloader()
    accumulation = args.gradient_accumulation_steps
    # As transformers: a last group of fewer than `accumulation` batches still makes an update.
    steps_per_epoch = max(math.ceil(len(loader) / accumulation), 1)
    max_steps = args.max_steps if args.max_steps > 0 else math.ceil(args.num_train_epochs * steps_per_epoch)
    num_epochs = math.ceil(max_steps / steps_per_epoch)
    trainer.create_optimizer_and_scheduler(max_steps)
    trainer.state = TrainerState(
        max_steps=max_steps, num_train_epochs=num_epochs, train_batch_size=args.per_device_train_batch_size,
        logging_steps=args.steps_from(args.logging_steps, max_steps),
        eval_steps=args.steps_from(args.eval_steps or args.logging_steps, max_steps),
        save_steps=args.steps_from(args.save_steps, max_steps),
        is_local_process_zero=trainer.is_local_process_zero(), is_world_process_zero=trainer.is_world_process_zero(),
    )  # fmt: skip
    trainer.control = TrainerControl()
    if resume_from_checkpoint:
        trainer._resume(resume_from_checkpoint)
    state = trainer.state
    model.train()
    trainer._event("on_train_begin")
    if args.eval_on_start:
        trainer._evaluate_during_training(ignore_keys_for_eval)
    start, done_steps = time.time(), state.global_step
    trainer._tr_loss, trainer._tr_updates, total_loss, total_updates = 0.0, 0, 0.0, 0
    bar = tqdm(total=max_steps, initial=done_steps, disable=args.disable_tqdm or not trainer.world.is_main_process,
               desc="train")  # fmt: skip
    try:
        # Resumed from the last step (a run killed after its final checkpoint): nothing is left to train.
        for epoch in range(done_steps // steps_per_epoch, num_epochs if done_steps < max_steps else 0):
            trainer._epoch_index = epoch
            batches = loader.index_batches(epoch)  # the same order as an uninterrupted run would see
            # On resume, skip the batches of this epoch that the checkpointed run already trained on.
            skip = 0 if args.ignore_data_skip else (done_steps - epoch * steps_per_epoch) * accumulation
            trainer._event("on_epoch_begin")
            for i in range(max(skip, 0), len(batches)):
                group_start = i - i % accumulation
                group_size = min(accumulation, len(batches) - group_start)  # batches in this update
                if i == group_start:  # the update's batches, fetched together (to count their labels)
                    trainer._event("on_step_begin")
                    group = [loader.fetch(b) for b in batches[group_start : group_start + group_size]]
                    num_items = trainer._num_items_in_batch(group)
                batch = group[i - group_start]
                trainer._track_num_input_tokens(batch)
                trainer.current_gradient_accumulation_steps = group_size
                trainer._tr_loss += float(trainer.training_step(model, batch, num_items_in_batch=num_items))
                if i + 1 < group_start + group_size:
                    trainer._event("on_substep_end")
                    continue
                _optimizer_step(trainer, epoch)
                state.global_step += 1
                state.epoch = epoch + (i + 1) / len(batches)
                trainer._tr_updates += 1
                bar.update(1)
                bar.set_postfix(loss=f"{trainer._tr_loss / trainer._tr_updates:.4f}",
                                lr=f"{trainer._get_learning_rate():.2e}")  # fmt: skip
                # Reaching max_steps mid-epoch ends the epoch too (its epoch-strategy log/eval/save run).
                epoch_end = (i + 1) == len(batches) or state.global_step >= max_steps
                logged = step_end(trainer, epoch_end, ignore_keys_for_eval)
                if logged is not None:
                    total_loss, total_updates = total_loss + logged[0], total_updates + logged[1]
                if trainer.control.should_training_stop or state.global_step >= max_steps:
                    break
            if trainer.control.should_training_stop or state.global_step >= max_steps:
                break
    finally:
        bar.close()
        trainer.is_in_train = False
    totals = dist.all_reduce([total_loss + trainer._tr_loss, total_updates + trainer._tr_updates])  # all ranks
    train_loss = float(totals[0]) / max(float(totals[1]), 1)
    if args.load_best_model_at_end and state.best_model_checkpoint:
        trainer._load_weights(state.best_model_checkpoint)
    steps_run = state.global_step - done_steps
    metrics = speed_metrics("train", start, num_samples=steps_run * args.per_device_train_batch_size * accumulation
                            * trainer.world.size, num_steps=steps_run)  # fmt: skip
    metrics.update(total_flos=state.total_flos, train_loss=train_loss)
    trainer.log(dict(metrics))
    metrics["epoch"] = state.epoch
    trainer._event("on_train_end")
    return TrainOutput(state.global_step, train_loss, metrics)


def _optimizer_step(trainer, epoch: int) -> None:
    args, params = trainer.args, list(trainer.model.parameters())
    dist.all_reduce_gradients(params)  # once per update, not per accumulated batch
    grad_norm = clip_grad_norm_(params, args.max_grad_norm) if args.max_grad_norm else None
    if grad_norm is not None and not np.isfinite(float(grad_norm)):
        trainer._raise_non_finite(f"the gradient norm became {float(grad_norm)}")
    trainer._grad_norm = grad_norm
    trainer._event("on_pre_optimizer_step")
    trainer.optimizer.step()
    trainer._event("on_optimizer_step")
    trainer.lr_scheduler.step()
    trainer.optimizer.zero_grad()


def step_end(trainer, epoch_end: bool, ignore_keys_for_eval=None) -> tuple[float, int] | None:
    """Apply the logging / evaluation / saving strategies after an optimizer step (as transformers'
    DefaultFlowCallback decides them). Returns the logged (loss sum, updates), when it logged."""
    args, state, control = trainer.args, trainer.state, trainer.control
    step, total = state.global_step, state.max_steps
    delay = args.eval_delay or 0

    def due(strategy: str, every: float) -> bool:
        if strategy == "epoch":
            return epoch_end
        return strategy == "steps" and step % args.steps_from(every, total) == 0

    final = step >= total  # as transformers: a step strategy also evaluates and saves at the last step
    control.should_log = due(args.logging_strategy, args.logging_steps) or (args.logging_first_step and step == 1)
    evaluate = due(args.eval_strategy, args.eval_steps) or (final and args.eval_strategy == "steps")
    control.should_evaluate = evaluate and delay <= (state.epoch if args.eval_strategy == "epoch" else step)
    control.should_save = due(args.save_strategy, args.save_steps) or (final and args.save_strategy == "steps")
    trainer._event("on_step_end")
    control = trainer.control  # a callback may have handed back a new one
    logged = None
    if control.should_log:  # decided alike on every rank, so all of them take part in the reduction
        loss_sum, updates = map(float, dist.all_reduce([trainer._tr_loss, trainer._tr_updates]))
        entry = {"loss": loss_sum / max(updates, 1)}
        if trainer._grad_norm is not None:
            entry["grad_norm"] = float(trainer._grad_norm)
        entry["learning_rate"] = trainer._get_learning_rate()
        logged = (trainer._tr_loss, trainer._tr_updates)
        trainer._tr_loss, trainer._tr_updates = 0.0, 0
        trainer.log(entry)
    is_new_best = False
    if control.should_evaluate and trainer.eval_dataset is not None:
        is_new_best = trainer._evaluate_during_training(ignore_keys_for_eval)
    if args.save_strategy == "best":
        control.should_save = is_new_best
    if control.should_save:
        trainer._save_checkpoint()
    if epoch_end:
        trainer._event("on_epoch_end")
    return logged
