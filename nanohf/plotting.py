"""Pictures: training curves from a Trainer's ``log_history`` and attention maps from ``output_attentions``.

matplotlib is optional (``pip install nanohf[plot]``); it is imported only when a picture is drawn,
with the non-interactive Agg backend, so this works on a machine without a display.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("nanohf.plotting needs matplotlib: pip install 'nanohf[plot]' (or matplotlib)") from None
    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt

    return plt


def plot_log_history(log_history: list[dict], path: str | os.PathLike, title: str = "training") -> None:
    """Training loss (and ``eval_loss``) against the step, and the learning rate, saved as a PNG at ``path``.

    ``log_history`` is ``trainer.state.log_history``: dicts with ``step`` and some of ``loss``,
    ``learning_rate``, ``eval_loss``, ``eval_<metric>``; the final summary entry (``train_loss``) is skipped.
    """
    plt = _pyplot()

    def series(key: str) -> tuple[list[int], list[float]]:
        entries = [e for e in log_history if key in e and "step" in e]
        return [e["step"] for e in entries], [e[key] for e in entries]

    if not series("loss")[0] and not series("eval_loss")[0]:
        raise ValueError("log_history has no 'loss' or 'eval_loss' entries: set logging_steps / eval_strategy")
    metrics = sorted({k for e in log_history for k in e if k.startswith("eval_") and k not in _EVAL_BOOKKEEPING})
    panels = 3 if metrics else 2  # loss | eval metrics (accuracy, F1…) | learning rate
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 3.6))
    ax_loss, ax_lr = axes[0], axes[-1]
    for key, style in (("loss", "-"), ("eval_loss", "o--")):
        steps, values = series(key)
        if steps:
            ax_loss.plot(steps, values, style, label=key)
    ax_loss.set(xlabel="step", ylabel="loss", title=f"{title}: loss")
    ax_loss.legend()
    if metrics:
        for key in metrics:
            steps, values = series(key)
            axes[1].plot(steps, values, "s-", label=key)
        axes[1].set(xlabel="step", ylabel="metric", title="evaluation")
        axes[1].legend()
    steps, rates = series("learning_rate")
    ax_lr.plot(steps, rates)
    ax_lr.set(xlabel="step", ylabel="learning rate", title="learning-rate schedule")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


_EVAL_BOOKKEEPING = {"eval_loss", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second"}


def plot_attention(
    attentions: Sequence[np.ndarray], tokens: Sequence[str], path: str | os.PathLike, title: str = ""
) -> None:
    """A grid of attention maps, one row per layer and one column per head, saved as a PNG at ``path``.

    ``attentions`` is a model's ``output_attentions`` for one sentence: a tuple with one array per
    layer of shape ``(1, heads, seq, seq)`` (or ``(heads, seq, seq)``); row i of a map is where token
    i looks (its softmax over the keys). ``tokens`` labels the axes (``len(tokens) == seq``).
    """
    plt = _pyplot()
    maps = [np.asarray(a)[0] if np.ndim(a) == 4 else np.asarray(a) for a in attentions]
    layers, heads, seq = len(maps), maps[0].shape[0], maps[0].shape[-1]
    if len(tokens) != seq:
        raise ValueError(f"{len(tokens)} tokens for attention maps over {seq} positions")
    cell = max(1.6, 0.16 * seq)
    fig, axes = plt.subplots(layers, heads, figsize=(cell * heads, cell * layers), squeeze=False)
    for layer, probs in enumerate(maps):
        for head in range(heads):
            ax = axes[layer][head]
            ax.imshow(probs[head], vmin=0.0, vmax=1.0, cmap="viridis")
            ax.set_xticks([])
            ax.set_yticks([])
            if layer == 0:
                ax.set_title(f"head {head}", fontsize=9)
            if head == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=9)
    # Token labels on the bottom-left map only: readable, and every map shares the same axes.
    corner = axes[-1][0]
    corner.set_xticks(range(seq), tokens, rotation=90, fontsize=6)
    corner.set_yticks(range(seq), tokens, fontsize=6)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
