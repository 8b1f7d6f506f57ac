"""Qwen2 (Qwen team, 2024): Llama's decoder (llama.py) with biases on q, k and v.

Everything else is Llama's: RMSNorm, RoPE, GQA, the SiLU-gated MLP, the shared layer stack. The
differences, as transformers' modular Qwen2 file states them:

- ``q_proj``, ``k_proj``, ``v_proj`` carry a bias, ``o_proj`` does not, and the MLP has none;
- optional sliding-window attention: with ``use_sliding_window``, the layers from ``max_window_layers``
  on (``layer_types`` says which: ``"sliding_attention"`` or ``"full_attention"``) see only the last
  ``sliding_window`` positions; off by default, and then ``sliding_window`` is None.
"""

from dataclasses import replace

from nanohf.models.config_validation import ConfigError
from nanohf.models.llama import (
    LlamaAttention,
    LlamaConfig,
    LlamaDecoderLayer,
    LlamaForCausalLM,
    LlamaForQuestionAnswering,
    LlamaForSequenceClassification,
    LlamaForTokenClassification,
    LlamaModel,
    LlamaPreTrainedModel,
)

LAYER_TYPES = ("full_attention", "sliding_attention")


class Qwen2Config(LlamaConfig):
    """transformers' Qwen2Config: Llama's fields but ``attention_bias``, ``mlp_bias`` (fixed by the family),
    ``pretraining_tp`` and ``head_dim`` (derived), plus the sliding-window ones; the defaults are Qwen2-7B's."""

    model_type = "qwen2"
    rules = replace(LlamaConfig.rules, positive=(*LlamaConfig.rules.positive, "sliding_window", "max_window_layers"))
    llama_only_fields = ("attention_bias", "mlp_bias", "pretraining_tp", "head_dim")

    def __init__(
        self,
        vocab_size: int = 151936,
        hidden_size: int = 4096,
        intermediate_size: int = 22016,
        num_hidden_layers: int = 32,
        num_attention_heads: int = 32,
        num_key_value_heads: int | None = 32,
        hidden_act: str = "silu",
        max_position_embeddings: int = 32768,
        initializer_range: float = 0.02,
        rms_norm_eps: float = 1e-6,
        use_cache: bool = True,
        tie_word_embeddings: bool = False,
        rope_parameters: dict | None = None,
        use_sliding_window: bool = False,
        sliding_window: int | None = 4096,
        max_window_layers: int = 28,
        layer_types: list[str] | None = None,
        attention_dropout: float = 0.0,
        pad_token_id: int | None = None,
        bos_token_id: int | None = None,
        eos_token_id: int | list[int] | None = None,
        **kwargs,
    ):
        self.use_sliding_window = use_sliding_window
        self.sliding_window = sliding_window if use_sliding_window else None
        self.max_window_layers = max_window_layers
        if isinstance(num_hidden_layers, bool) or not isinstance(num_hidden_layers, int):  # layer_types counts on it
            raise ConfigError(f"num_hidden_layers must be an integer, got {num_hidden_layers!r}")
        if layer_types is None:
            layer_types = ["sliding_attention" if self.sliding_window is not None and i >= max_window_layers
                           else "full_attention" for i in range(num_hidden_layers)]  # fmt: skip
        if not isinstance(layer_types, list | tuple):
            raise ConfigError(f"layer_types must be a list of {LAYER_TYPES} entries, got {layer_types!r}")
        bad = [t for t in layer_types if t not in LAYER_TYPES]
        if len(layer_types) != num_hidden_layers or bad:
            raise ConfigError(f"layer_types must list num_hidden_layers = {num_hidden_layers} entries from "
                              f"{LAYER_TYPES}, got {layer_types!r}")  # fmt: skip
        self.layer_types = list(layer_types)
        given = set(kwargs)
        super().__init__(
            vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=intermediate_size,
            num_hidden_layers=num_hidden_layers, num_attention_heads=num_attention_heads,
            num_key_value_heads=num_key_value_heads, hidden_act=hidden_act,
            max_position_embeddings=max_position_embeddings, initializer_range=initializer_range,
            rms_norm_eps=rms_norm_eps, use_cache=use_cache, pad_token_id=pad_token_id, bos_token_id=bos_token_id,
            eos_token_id=eos_token_id, tie_word_embeddings=tie_word_embeddings, rope_parameters=rope_parameters,
            attention_dropout=attention_dropout, **kwargs,
        )  # fmt: skip
        # No attention_bias, mlp_bias (Qwen2 fixes its biases itself, see Qwen2Model.make_layer), pretraining_tp or
        # head_dim (the property below) unless given, as transformers' Qwen2Config.
        self._drop_llama_only_fields(given)

    @property
    def head_dim(self) -> int:
        """transformers' Qwen2Config has no such field: its model reads one if given, else hidden_size //
        num_attention_heads."""
        given = self.__dict__.get("head_dim")
        return self.hidden_size // self.num_attention_heads if given is None else given

    @head_dim.setter
    def head_dim(self, value: int | None) -> None:
        self.__dict__["head_dim"] = value


class Qwen2PreTrainedModel(LlamaPreTrainedModel):
    config_class = Qwen2Config


class Qwen2Model(Qwen2PreTrainedModel, LlamaModel):
    @staticmethod
    def make_layer(config: Qwen2Config, layer_idx: int) -> LlamaDecoderLayer:
        sliding = config.layer_types[layer_idx] == "sliding_attention"
        attention = LlamaAttention(config, layer_idx, qkv_bias=True, o_bias=False,
                                   sliding_window=config.sliding_window if sliding else None)  # fmt: skip
        return LlamaDecoderLayer(config, layer_idx, self_attn=attention, mlp_bias=False)


class Qwen2ForCausalLM(Qwen2PreTrainedModel, LlamaForCausalLM):
    base_model_class = Qwen2Model


class Qwen2ForSequenceClassification(Qwen2PreTrainedModel, LlamaForSequenceClassification):
    base_model_class = Qwen2Model


class Qwen2ForTokenClassification(Qwen2PreTrainedModel, LlamaForTokenClassification):
    base_model_class = Qwen2Model


class Qwen2ForQuestionAnswering(Qwen2PreTrainedModel, LlamaForQuestionAnswering):
    base_model_prefix = "transformer"
    base_model_class = Qwen2Model
