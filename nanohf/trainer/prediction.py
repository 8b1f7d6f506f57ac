"""Evaluation and prediction: run the model over a data set without gradients, gather what it predicts.

``Trainer.evaluate`` and ``Trainer.predict`` both call ``evaluation_loop``, which calls
``Trainer.prediction_step`` on each batch: ``(loss, logits, labels)``, where ``logits`` is one array, or a
tuple of arrays when the model has several outputs (question answering: ``(start_logits, end_logits)``),
and ``labels`` likewise (``(start_positions, end_positions)``). Batches are concatenated along the first
axis; arrays whose second axis differs between batches (token tasks with dynamic padding) are padded to
the longest with -100 first, as transformers does.

Under MPI each rank predicts its shard; the rows repeated to even out the shards are dropped, and every
rank gets all predictions back in dataset order, so each computes the same metrics (and callbacks such as
early stopping decide alike everywhere).
"""

import time
from typing import NamedTuple

import numpy as np

from nanohf import distributed as dist
from nanohf.autograd import no_grad
from nanohf.metrics import EvalPrediction


class EvalLoopOutput(NamedTuple):
    predictions: np.ndarray | tuple | None
    label_ids: np.ndarray | tuple | None
    metrics: dict | None
    num_samples: int | None


class PredictionOutput(NamedTuple):
    """What ``Trainer.predict`` returns: ``predictions, label_ids, metrics = trainer.predict(dataset)``."""

    predictions: np.ndarray | tuple
    label_ids: np.ndarray | tuple | None
    metrics: dict | None


def speed_metrics(prefix: str, start_time: float, num_samples: int | None = None, num_steps: int | None = None) -> dict:
    """``{prefix}_runtime`` in seconds, and samples / steps per second (rounded as transformers rounds them)."""
    runtime = time.time() - start_time
    result = {f"{prefix}_runtime": round(runtime, 4)}
    if runtime == 0:
        return result
    if num_samples is not None:
        result[f"{prefix}_samples_per_second"] = round(num_samples / runtime, 3)
    if num_steps is not None:
        result[f"{prefix}_steps_per_second"] = round(num_steps / runtime, 3)
    return result


def evaluation_loop(trainer, dataloader, description: str, prediction_loss_only: bool | None = None,
                    ignore_keys: list[str] | None = None,
                    metric_key_prefix: str = "eval") -> EvalLoopOutput:  # fmt: skip
    """Predict every batch of ``dataloader``; the metrics are ``{prefix}_loss`` (the mean loss per example) and
    ``compute_metrics``' results, each key prefixed with ``{metric_key_prefix}_``."""
    args = trainer.args
    loss_only = args.prediction_loss_only if prediction_loss_only is None else prediction_loss_only
    with_inputs, with_losses = "inputs" in args.include_for_metrics, "loss" in args.include_for_metrics
    if args.batch_eval_metrics and trainer.world.size > 1:
        raise NotImplementedError("batch_eval_metrics=True under MPI: each rank would compute metrics on its shard")
    model = trainer.model
    was_training = model.training
    model.eval()
    main_input = getattr(model, "main_input_name", "input_ids")
    positions, losses, preds, labels, inputs = [], [], [], [], []
    metrics = None
    batches = dataloader.index_batches()
    with no_grad():
        for i, indices in enumerate(batches):
            # Leave out the examples repeated to even out the shards: no collective runs per batch here, so
            # ranks may do different numbers of batches, and the mean loss stays exact.
            indices = indices[: dataloader.real_rows(i)]
            if len(indices) == 0:
                continue
            batch = dataloader.fetch(indices)
            loss, logits, label = trainer.prediction_step(model, batch, loss_only, ignore_keys=ignore_keys)
            if logits is not None and trainer.preprocess_logits_for_metrics is not None:
                logits = trainer.preprocess_logits_for_metrics(logits, label)
            positions.append(indices)
            losses.append(None if loss is None else np.full(len(indices), float(loss), dtype=np.float32))
            preds.append(logits)
            labels.append(label)
            inputs.append(np.asarray(batch[main_input]) if with_inputs and main_input in batch else None)
            trainer.control = trainer.callback_handler.call_event(
                "on_prediction_step", args, trainer.state, trainer.control, **trainer.callback_kwargs()
            )
            if args.batch_eval_metrics and trainer.compute_metrics is not None and logits is not None:
                if label is not None:
                    metrics = trainer.compute_metrics(
                        EvalPrediction(logits, label, inputs=inputs[-1], losses=losses[-1] if with_losses else None),
                        compute_result=i == len(batches) - 1,
                    )
    model.train(was_training)
    if trainer.world.size > 1:  # everyone's batches, back in dataset order
        gathered = dist.all_gather_object((positions, losses, preds, labels, inputs))
        parts = [[x for part in gathered for x in part[k]] for k in range(5)]
        order = np.argsort([p[0] for p in parts[0]], kind="stable")  # each batch's first example
        positions, losses, preds, labels, inputs = ([part[j] for j in order] for part in parts)
    order = _row_order(positions)
    concat = args.eval_do_concat_batches and not args.batch_eval_metrics
    all_losses = _gather(losses, order, True)
    all_preds = _gather(preds, order, concat)
    all_labels = _gather(labels, order, concat)
    all_inputs = _gather(inputs, order, concat)
    if metrics is None:
        metrics = {}
        if trainer.compute_metrics is not None and all_preds is not None and all_labels is not None:
            metrics = trainer.compute_metrics(EvalPrediction(
                all_preds, all_labels, inputs=all_inputs if with_inputs else None,
                losses=all_losses if with_losses else None,
            ))  # fmt: skip
    metrics = {k: v.item() if isinstance(v, np.generic | np.ndarray) and np.ndim(v) == 0 else v
               for k, v in dict(metrics).items()}  # fmt: skip
    if all_losses is not None:
        finite = np.isfinite(all_losses)
        kept = all_losses[finite] if args.logging_nan_inf_filter and finite.any() else all_losses
        metrics[f"{metric_key_prefix}_loss"] = float(kept.mean())
    for key in list(metrics):
        if not key.startswith(f"{metric_key_prefix}_"):
            metrics[f"{metric_key_prefix}_{key}"] = metrics.pop(key)
    return EvalLoopOutput(all_preds, all_labels, metrics, len(dataloader.dataset))


def _row_order(positions: list[np.ndarray]):
    """The permutation that puts the concatenated rows back in dataset order (identity in one process)."""
    if not positions:
        return slice(None)
    flat = np.concatenate(positions)
    return slice(None) if np.all(flat[1:] >= flat[:-1]) else np.argsort(flat, kind="stable")


def _gather(batches: list, order, concat: bool):
    """Per-batch arrays (or tuples of arrays, or None) -> one array / tuple of arrays in dataset order, or, with
    ``concat=False``, the list of per-batch values (transformers' ``eval_do_concat_batches=False``)."""
    if not batches or batches[0] is None:
        return None
    if not concat:
        return batches
    if isinstance(batches[0], tuple | list):
        return tuple(_gather([b[k] for b in batches], order, True) for k in range(len(batches[0])))
    return concat_padded([np.asarray(b) for b in batches])[order]


def concat_padded(arrays: list[np.ndarray], pad_value=-100) -> np.ndarray:
    """Stack per-batch arrays along the batch axis, padding the second axis (token tasks) with -100."""
    if not arrays:
        return np.zeros((0,))
    if arrays[0].ndim < 2 or all(a.shape[1:] == arrays[0].shape[1:] for a in arrays):
        return np.concatenate(arrays, axis=0)
    longest = max(a.shape[1] for a in arrays)
    padded = []
    for a in arrays:
        widths = [(0, 0), (0, longest - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
        padded.append(np.pad(a, widths, constant_values=pad_value))
    return np.concatenate(padded, axis=0)
