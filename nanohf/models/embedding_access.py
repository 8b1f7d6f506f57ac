"""The token tables of a model: finding them, swapping them, and growing or shrinking the vocabulary.

``EmbeddingAccessMixin`` gives every ``PreTrainedModel`` transformers' methods
``get_input_embeddings`` / ``set_input_embeddings`` / ``get_output_embeddings`` /
``set_output_embeddings`` and ``resize_token_embeddings``.

Where the tables are, without a per-model method:

- the *input* embeddings are the base model's token table: its first ``Embedding`` with
  ``config.vocab_size`` rows (every model builds its token table before its position tables,
  as transformers does: BERT's ``embeddings.word_embeddings``, GPT-2's ``wte``, BART's ``shared``);
- the *output* embeddings are the layer the class ties to them: the owner of the first target
  in ``_tied_weights_keys`` (``cls.predictions.decoder``, ``lm_head``, ``vocab_projector``, ...);
  a model without tied keys has none (``None``), as transformers' encoders.

Resizing keeps every Parameter object and gives it a new array, as transformers does
(``old_embeddings.weight.data = new``): a tied LM head holds the same Parameter, so it follows,
and the tie stays one array under two names. Rows ``[:min(old, new)]`` are copied; added rows are

- with ``mean_resizing=True``: drawn from N(μ, 1e-9·Σ), μ and Σ the mean and covariance of the old
  rows (https://nlp.stanford.edu/~johnhew/vocab-expansion.html) — in effect the mean row, so the
  new tokens start with the average score of the old ones; the plain mean when 1e-9·Σ is not
  positive definite (fewer rows than dimensions);
- with ``mean_resizing=False``: the model's usual init, N(0, initializer_range).

An untied LM head is resized the same way from its own rows (its bias: N(mean, 1e-9·std));
a tied head's bias gets zeros for new tokens (transformers pads it when it re-ties the weights).
"""

import logging
from typing import TYPE_CHECKING

import numpy as np

from nanohf.nn.layers import Embedding, Linear
from nanohf.nn.module import Module, Parameter
from nanohf.random import get_generator

if TYPE_CHECKING:
    from nanohf.models.modeling_utils import PreTrainedModel

logger = logging.getLogger("nanohf")

MEAN_RESIZING_EPSILON = 1e-9  # the covariance scale transformers samples new rows with


class EmbeddingAccessMixin:
    """Mixed into PreTrainedModel (see the module docstring for how the tables are found)."""

    # --- finding and swapping ---------------------------------------------------------------------------
    def _input_embeddings_name(self: "PreTrainedModel") -> str:
        base = self.base_model
        prefix = "" if base is self else self.base_model_prefix
        embeddings = [(name, m) for name, m in base.named_modules() if isinstance(m, Embedding)]
        if not embeddings:
            raise NotImplementedError(f"{type(self).__name__} has no Embedding module: no input embeddings")
        vocab = getattr(self.config, "vocab_size", None)
        name = next((n for n, m in embeddings if m.weight.shape[0] == vocab), embeddings[0][0])
        return f"{prefix}.{name}" if prefix and name else (prefix or name)

    def get_input_embeddings(self: "PreTrainedModel") -> Embedding:
        """The token table, ``(vocab_size, hidden)``: ids -> vectors."""
        return self.get_submodule(self._input_embeddings_name())

    def set_input_embeddings(self: "PreTrainedModel", value: Module) -> None:
        """Put ``value`` where the token table was — and wherever the same table was shared (BART's encoder and
        decoder read ``shared``: all three become ``value``, as transformers' BartModel does)."""
        old = self.get_input_embeddings()
        for name, module in list(self.named_modules(remove_duplicate=False)):
            if module is old or (isinstance(module, Embedding) and module.weight is old.weight):
                _set_submodule(self, name, value)

    def _output_embeddings_name(self: "PreTrainedModel") -> str | None:
        for target in self._tied_weights_keys:
            owner = target.rsplit(".", 1)[0]
            if isinstance(self.get_submodule(owner), Linear):
                return owner
        return None

    def get_output_embeddings(self: "PreTrainedModel") -> Linear | None:
        """The LM head's projection onto the vocabulary (tied to the input embeddings), or None for a model
        that has none (encoders, classification heads), as in transformers."""
        name = self._output_embeddings_name()
        return None if name is None else self.get_submodule(name)

    def set_output_embeddings(self: "PreTrainedModel", new_embeddings: Linear) -> None:
        name = self._output_embeddings_name()
        if name is None:
            raise NotImplementedError(f"{type(self).__name__} has no output embeddings (no LM head) to replace")
        old = self.get_submodule(name)
        parent = self.get_submodule(name.rsplit(".", 1)[0] if "." in name else "")
        _set_submodule(self, name, new_embeddings)
        # A head that keeps the decoder's bias under its own name too (BERT's cls.predictions.bias) follows it.
        for attr, value in list(vars(parent).items()):
            if isinstance(value, Parameter) and old.bias is not None and value is old.bias:
                setattr(parent, attr, new_embeddings.bias)

    # --- resizing -------------------------------------------------------------------------------------------
    def resize_token_embeddings(
        self: "PreTrainedModel",
        new_num_tokens: int | None = None,
        pad_to_multiple_of: int | None = None,
        mean_resizing: bool = True,
    ) -> Embedding:
        """Give the vocabulary ``new_num_tokens`` rows (rounded up to a multiple of ``pad_to_multiple_of``);
        returns the input embeddings. The LM head (tied or not), its bias and vocabulary-sized buffers (BART's
        ``final_logits_bias``) follow; ``config.vocab_size`` is updated."""
        embeddings = self.get_input_embeddings()
        if new_num_tokens is None and pad_to_multiple_of is None:
            return embeddings
        old_rows = embeddings.weight.shape[0]
        new_rows = _target_rows(old_rows, new_num_tokens, pad_to_multiple_of)
        if mean_resizing and new_rows > old_rows:
            logger.warning(
                "The new embeddings will be initialized from a multivariate normal distribution that has old "
                "embeddings' mean and covariance. To disable this, use `mean_resizing=False`"
            )
        output = self.get_output_embeddings()
        tied = output is not None and output.weight is embeddings.weight
        self._resize_rows(embeddings.weight, new_rows, mean_resizing, Embedding)
        for module in self.modules():  # every module reading this table (BART: shared, encoder, decoder)
            if isinstance(module, Embedding) and module.weight is embeddings.weight:
                if module.padding_idx is not None and module.padding_idx >= new_rows:
                    module.padding_idx = None
        if output is not None and not tied:
            self._resize_rows(output.weight, new_rows, mean_resizing, Linear)
            if output.bias is not None:
                output.bias.data = _resized_bias(output.bias.data, new_rows, mean_resizing)
        elif output is not None and output.bias is not None:
            # A tied head's bias: zeros for the new tokens (transformers pads it when it re-ties the weights).
            output.bias.data = _resized_bias(output.bias.data, new_rows, mean_resizing=False)
        for _, buffer in self.named_buffers():
            if buffer.shape and buffer.shape[-1] == old_rows:  # vocabulary-sized buffers: zeros for new tokens
                buffer.data = _pad_or_cut(buffer.data, new_rows)
        self.config.get_text_config().vocab_size = new_rows
        self.vocab_size = new_rows
        self.tie_weights()
        return embeddings

    def _resize_rows(self: "PreTrainedModel", param: Parameter, new_rows: int, mean_resizing: bool, kind: type) -> None:
        """``param.data`` ``(rows, dim)`` -> ``(new_rows, dim)``: rows kept, new rows initialised (module docstring)."""
        old = param.data
        old_rows, dim = old.shape
        if new_rows == old_rows:
            return
        new = np.empty((new_rows, dim), dtype=old.dtype)
        keep = min(old_rows, new_rows)
        new[:keep] = old[:keep]
        added = new_rows - old_rows
        if added > 0 and mean_resizing:
            new[old_rows:] = mean_resized_rows(old, added)
        elif added > 0:
            # The model's own init on a module of the added rows: N(0, initializer_range) weights.
            fresh = Embedding(added, dim) if kind is Embedding else Linear(dim, added, bias=False)
            fresh.weight.data = fresh.weight.data.astype(old.dtype)
            self._init_weights(fresh)
            new[old_rows:] = fresh.weight.data
        param.data = new
        if param.grad is not None:  # a gradient of the old shape cannot be added to: drop it
            param.grad = None


def mean_resized_rows(old: np.ndarray, added: int) -> np.ndarray:
    """``added`` rows drawn from N(μ, 1e-9·Σ) of the ``old`` rows ``(rows, dim)`` (computed in float32 as
    transformers does); the mean row itself when 1e-9·Σ is not positive definite."""
    rows = old.astype(np.float32)
    mean = rows.mean(axis=0)
    centered = rows - mean
    covariance = (centered.T @ centered / rows.shape[0]).astype(np.float64) * MEAN_RESIZING_EPSILON
    try:
        lower = np.linalg.cholesky(covariance)  # Σ' = L Lᵀ exists iff Σ' is positive definite
    except np.linalg.LinAlgError:
        return np.broadcast_to(mean, (added, mean.shape[0])).astype(old.dtype)
    z = get_generator().standard_normal((added, mean.shape[0]))
    return (mean + z @ lower.T).astype(old.dtype)  # x = μ + L z has covariance L Lᵀ = Σ'


def _resized_bias(bias: np.ndarray, new_rows: int, mean_resizing: bool) -> np.ndarray:
    """An LM head's bias to ``new_rows``: new entries ~ N(mean, 1e-9·std) (mean resizing), or 0."""
    added = new_rows - bias.shape[0]
    if added <= 0 or not mean_resizing:
        return _pad_or_cut(bias, new_rows)
    mean, std = float(bias.astype(np.float32).mean()), float(bias.astype(np.float32).std(ddof=1))
    extra = get_generator().normal(mean, MEAN_RESIZING_EPSILON * std, added).astype(bias.dtype)
    return np.concatenate([bias, extra])


def _pad_or_cut(array: np.ndarray, size: int) -> np.ndarray:
    """``array`` with its last axis cut to ``size`` or zero-padded to it."""
    if array.shape[-1] >= size:
        return np.ascontiguousarray(array[..., :size])
    pad = [(0, 0)] * (array.ndim - 1) + [(0, size - array.shape[-1])]
    return np.pad(array, pad)


def _target_rows(old_rows: int, new_num_tokens: int | None, pad_to_multiple_of: int | None) -> int:
    if pad_to_multiple_of is not None:
        if not isinstance(pad_to_multiple_of, int) or isinstance(pad_to_multiple_of, bool):
            raise ValueError(
                f"Asking to pad the embedding matrix to a multiple of `{pad_to_multiple_of}`, which is not and "
                f"integer. Please make sure to pass an integer"
            )
        rows = old_rows if new_num_tokens is None else new_num_tokens
        return ((rows + pad_to_multiple_of - 1) // pad_to_multiple_of) * pad_to_multiple_of
    if not isinstance(new_num_tokens, int | np.integer) or new_num_tokens <= 0:
        raise ValueError(f"new_num_tokens must be a positive integer, got {new_num_tokens!r}")
    return int(new_num_tokens)


def _set_submodule(root: Module, name: str, value: Module) -> None:
    owner, attr = name.rsplit(".", 1) if "." in name else ("", name)
    setattr(root.get_submodule(owner), attr, value)
