"""Rotary position embeddings (RoPE, Su et al. 2021): positions as rotations of q and k.

Split a head vector of size d into two halves, x = (x₁, x₂), and pair element i of the first half
with element i of the second. Each pair is a point in a plane, turned by the angle m·θᵢ at
position m, with one frequency per pair:

    θᵢ = rope_theta^(-2i/d)                                   i = 0 .. d/2 - 1
    rope(x, m) = (x₁ cos mθ - x₂ sin mθ,  x₂ cos mθ + x₁ sin mθ)

(transformers writes it ``x · cos + rotate_half(x) · sin`` with ``rotate_half(x) = (-x₂, x₁)``
and cos, sin repeated over both halves.) Rotating q at position m and k at position n turns
their dot product by the difference only: ⟨rope(q, m), rope(k, n)⟩ = ⟨rope(q, m - n), k⟩ —
attention sees *relative* positions, and no position table is learned.

Backward: a rotation's transpose is the rotation by the opposite angle, so
``d_x = rope(d_y)`` with sin negated (``apply_rotary(dy, cos, -sin)``).

Scaling, for contexts longer than the model was trained on (``rope_type``, as transformers 5):

- ``"default"``: the frequencies above;
- ``"linear"``: every θᵢ divided by ``factor`` (positions squeezed into the trained range);
- ``"dynamic"`` (NTK): when a sequence runs past ``max_position_embeddings`` (L), the base grows,
  ``theta' = theta · (factor·len/L - (factor - 1))^(d/(d-2))``, recomputed as the length grows;
- ``"llama3"``: long wavelengths (λᵢ = 2π/θᵢ > original_L / low_freq_factor) divided by ``factor``,
  short ones (λᵢ < original_L / high_freq_factor) kept, the band between interpolated smoothly.

The parameters come from ``config.rope_parameters`` as transformers 5 writes config.json
(``{"rope_type": ..., "rope_theta": ..., "factor": ...}``), or from the older spelling hub files
carry: ``rope_scaling`` (``"type"`` or ``"rope_type"``) plus a top-level ``rope_theta``.
"""

import math
from typing import Any

import numpy as np

from nanohf.models.config_validation import ConfigError
from nanohf.nn.module import Module

DEFAULT_THETA = 10_000.0
# rope_type -> the keys it needs besides rope_type and rope_theta
ROPE_TYPES: dict[str, tuple[str, ...]] = {
    "default": (),
    "linear": ("factor",),
    "dynamic": ("factor",),
    "llama3": ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"),
}


def standardize_rope_parameters(
    rope_parameters: dict | None, rope_scaling: dict | None, rope_theta: float | None, max_position_embeddings: int
) -> dict[str, Any]:
    """The one ``rope_parameters`` dict transformers 5 keeps, from either spelling; unknown types refused.

    ``rope_scaling`` (the old name) wins over ``rope_parameters`` when both are given, as in transformers;
    ``rope_theta`` fills in a missing ``"rope_theta"``; ``"type"`` is the old name of ``"rope_type"``.
    """
    field = "rope_scaling" if rope_scaling else "rope_parameters"
    given = rope_scaling or rope_parameters or {}
    if not isinstance(given, dict):
        raise ConfigError(f"{field} must be a dict such as {{'rope_type': 'linear', 'factor': 2.0}}, got {given!r}")
    params = dict(given)
    params.setdefault("rope_type", params.get("type", "default"))
    params.setdefault("rope_theta", rope_theta if rope_theta is not None else DEFAULT_THETA)
    rope_type = params["rope_type"]
    if rope_type not in ROPE_TYPES:
        raise ConfigError(
            f"{field}['rope_type'] is {rope_type!r}, a RoPE scaling type nanohf does not know; "
            f"it knows {sorted(ROPE_TYPES)}"
        )
    if rope_type == "llama3":
        params.setdefault("original_max_position_embeddings", max_position_embeddings)
    missing = [key for key in ROPE_TYPES[rope_type] if params.get(key) is None]
    if missing:
        raise ConfigError(f"{field} of rope_type {rope_type!r} needs {missing} (got {sorted(params)})")
    for key in ("rope_theta", *ROPE_TYPES[rope_type]):
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ConfigError(f"{field}[{key!r}] must be a positive number, got {value!r}")
    return params


def inverse_frequencies(params: dict[str, Any], head_dim: int, max_position_embeddings: int,
                        seq_len: int | None = None) -> np.ndarray:  # fmt: skip
    """θᵢ for ``i = 0 .. head_dim/2 - 1`` as float32 (transformers computes them in float32 too).

    ``seq_len`` matters only for ``"dynamic"``: the length the frequencies are stretched to.
    """
    rope_type, base = params["rope_type"], float(params["rope_theta"])
    dim = head_dim
    exponents = np.arange(0, dim, 2, dtype=np.float64) / dim
    if rope_type == "dynamic":
        length = max(seq_len or 0, max_position_embeddings)
        factor = params["factor"]
        base = base * ((factor * length / max_position_embeddings) - (factor - 1)) ** (dim / (dim - 2))
    inv_freq = (1.0 / base**exponents).astype(np.float32)
    if rope_type == "linear":
        inv_freq = inv_freq / np.float32(params["factor"])
    elif rope_type == "llama3":
        inv_freq = _llama3_frequencies(inv_freq, params)
    return inv_freq


def _llama3_frequencies(inv_freq: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    factor, low, high = params["factor"], params["low_freq_factor"], params["high_freq_factor"]
    old_context = params["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv_freq
    scaled = np.where(wavelen > old_context / low, inv_freq / np.float32(factor), inv_freq)
    # Between the two wavelengths: a smooth blend of the divided and the kept frequency.
    smooth = (old_context / wavelen - low) / (high - low)
    blended = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= old_context / high) & (wavelen <= old_context / low)
    return np.where(medium, blended, scaled).astype(np.float32)


class RotaryEmbedding(Module):
    """cos and sin of every position's angles, ``(batch, seq, head_dim)`` each, for ``apply_rotary``.

    No parameters (transformers' ``inv_freq`` is a non-persistent buffer: never in a checkpoint). For
    ``"dynamic"`` the frequencies follow the longest position seen, as transformers' rotary module
    does: grown when a call runs past the current length, reset once a call fits the original range.
    """

    def __init__(self, rope_parameters: dict[str, Any], head_dim: int, max_position_embeddings: int):
        self.rope_parameters = rope_parameters
        self.rope_type = rope_parameters["rope_type"]
        self.head_dim = head_dim
        self.max_position_embeddings = max_position_embeddings
        self.original_inv_freq = inverse_frequencies(rope_parameters, head_dim, max_position_embeddings)
        self.inv_freq = self.original_inv_freq
        self.max_seq_len_cached = max_position_embeddings

    def forward(self, position_ids: np.ndarray, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
        """``position_ids (batch or 1, seq)`` -> ``(cos, sin)``, each ``(batch or 1, seq, head_dim)``."""
        position_ids = np.asarray(position_ids)
        if self.rope_type == "dynamic":
            self._update_dynamic(int(position_ids.max(initial=0)) + 1)
        # Angles in float32, as transformers computes them (positions times frequencies); cos and sin in the
        # model's dtype (float64 for gradient checks: then cos² + sin² = 1 to float64's precision).
        freqs = position_ids[..., None].astype(np.float32) * self.inv_freq
        angles = np.concatenate([freqs, freqs], axis=-1).astype(dtype, copy=False)
        return np.cos(angles), np.sin(angles)

    def _update_dynamic(self, seq_len: int) -> None:
        if seq_len > self.max_seq_len_cached:  # growth: stretch the frequencies to the new length
            self.inv_freq = inverse_frequencies(self.rope_parameters, self.head_dim, self.max_position_embeddings,
                                                seq_len)  # fmt: skip
            self.max_seq_len_cached = seq_len
        if seq_len < self.max_position_embeddings < self.max_seq_len_cached:  # back in range: the original ones
            self.inv_freq = self.original_inv_freq
            self.max_seq_len_cached = self.max_position_embeddings


def apply_rotary(x: np.ndarray, cos: np.ndarray, sin: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``x (batch, heads, seq, head_dim)`` rotated: ``x · cos + rotate_half(x) · sin``.

    ``cos, sin (batch or 1, seq, head_dim)`` are shared by every head. ``out`` (same shape, may be a
    strided view, e.g. into merged heads) receives the result; the default is a new contiguous array.
    The backward of a rotation is ``apply_rotary(dy, cos, -sin)``.
    """
    half = x.shape[-1] // 2
    cos, sin = cos[:, None], sin[:, None]
    if out is None:
        out = np.empty(x.shape, dtype=np.result_type(x, cos))
    np.multiply(x, cos, out=out)
    # rotate_half(x) = (-x₂, x₁): the first half takes -x₂ · sin, the second x₁ · sin.
    out[..., :half] -= x[..., half:] * sin[..., :half]
    out[..., half:] += x[..., :half] * sin[..., half:]
    return out
