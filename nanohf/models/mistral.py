"""Mistral (Jiang et al., 2023): Llama's decoder (llama.py) with sliding-window attention.

Each token attends to itself and the ``sliding_window - 1`` tokens before it, in every layer, as
transformers 5 builds the mask for eager attention: key j is visible to query i when
``i - window < j <= i``, counted in cache positions (padding included). Information still travels
further than the window, one window per layer. No biases anywhere; GQA by default (8 k/v heads).
Everything else is Llama's.
"""

from dataclasses import replace

from nanohf.models.llama import (
    LlamaAttention,
    LlamaConfig,
    LlamaDecoderLayer,
    LlamaForCausalLM,
    LlamaForSequenceClassification,
    LlamaForTokenClassification,
    LlamaModel,
    LlamaPreTrainedModel,
)


class MistralConfig(LlamaConfig):
    """transformers' MistralConfig: Llama's fields without the biases and ``pretraining_tp``, plus
    ``sliding_window`` (None: full causal attention); the defaults are Mistral-7B's."""

    model_type = "mistral"
    rules = replace(LlamaConfig.rules, positive=(*LlamaConfig.rules.positive, "sliding_window"))
    llama_only_fields = ("attention_bias", "mlp_bias", "pretraining_tp")  # Mistral has no biases

    def __init__(
        self,
        vocab_size: int = 32000,
        hidden_size: int = 4096,
        intermediate_size: int = 14336,
        num_hidden_layers: int = 32,
        num_attention_heads: int = 32,
        num_key_value_heads: int | None = 8,
        head_dim: int | None = None,
        hidden_act: str = "silu",
        max_position_embeddings: int = 4096 * 32,
        initializer_range: float = 0.02,
        rms_norm_eps: float = 1e-6,
        use_cache: bool = True,
        pad_token_id: int | None = None,
        bos_token_id: int | None = 1,
        eos_token_id: int | list[int] | None = 2,
        tie_word_embeddings: bool = False,
        rope_parameters: dict | None = None,
        sliding_window: int | None = 4096,
        attention_dropout: float = 0.0,
        **kwargs,
    ):
        self.sliding_window = sliding_window
        given = set(kwargs)
        super().__init__(
            vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=intermediate_size,
            num_hidden_layers=num_hidden_layers, num_attention_heads=num_attention_heads,
            num_key_value_heads=num_key_value_heads, head_dim=head_dim, hidden_act=hidden_act,
            max_position_embeddings=max_position_embeddings, initializer_range=initializer_range,
            rms_norm_eps=rms_norm_eps, use_cache=use_cache, pad_token_id=pad_token_id, bos_token_id=bos_token_id,
            eos_token_id=eos_token_id, tie_word_embeddings=tie_word_embeddings, rope_parameters=rope_parameters,
            attention_dropout=attention_dropout, **kwargs,
        )  # fmt: skip
        self._drop_llama_only_fields(given)


class MistralPreTrainedModel(LlamaPreTrainedModel):
    config_class = MistralConfig


class MistralModel(MistralPreTrainedModel, LlamaModel):
    @staticmethod
    def make_layer(config: MistralConfig, layer_idx: int) -> LlamaDecoderLayer:
        attention = LlamaAttention(config, layer_idx, qkv_bias=False, o_bias=False,
                                   sliding_window=config.sliding_window)  # fmt: skip
        return LlamaDecoderLayer(config, layer_idx, self_attn=attention, mlp_bias=False)


class MistralForCausalLM(MistralPreTrainedModel, LlamaForCausalLM):
    base_model_class = MistralModel


class MistralForSequenceClassification(MistralPreTrainedModel, LlamaForSequenceClassification):
    base_model_class = MistralModel


class MistralForTokenClassification(MistralPreTrainedModel, LlamaForTokenClassification):
    base_model_class = MistralModel
