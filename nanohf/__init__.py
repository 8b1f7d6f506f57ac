"""nanohf: the Hugging Face transformers workflow, re-told in NumPy and Numba.

Public names only; each lives in one obvious module (see the README's map of the package).

``import nanohf`` imports nothing heavy: a name is imported from its module the first time it is used
(PEP 562's module ``__getattr__``), so a script that only embeds sentences never pays for the
Trainer, the pipelines or MPI. ``_EXPORTS`` below is the whole public surface, grouped by module.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "nanohf.accelerate": ["Accelerator", "notebook_launcher"],
    "nanohf.autograd": ["Loss", "enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"],
    "nanohf.data": [
        "ClassLabel",
        "DataCollatorForLanguageModeling",
        "DataCollatorForTokenClassification",
        "DataCollatorWithPadding",
        "DataLoader",
        "Dataset",
        "DatasetDict",
        "IterableDataset",
        "concatenate_datasets",
        "default_data_collator",
        "interleave_datasets",
        "load_dataset",
        "load_from_disk",
        "load_glue",
    ],
    "nanohf.generation": ["GenerationConfig"],
    "nanohf.metrics": ["EvalPrediction"],
    "nanohf.models.auto": [
        "AutoConfig",
        "AutoModel",
        "AutoModelForCausalLM",
        "AutoModelForMaskedLM",
        "AutoModelForQuestionAnswering",
        "AutoModelForSeq2SeqLM",
        "AutoModelForSequenceClassification",
        "AutoModelForTokenClassification",
    ],
    "nanohf.models.bart": [
        "BartConfig",
        "BartForConditionalGeneration",
        "BartForSequenceClassification",
        "BartModel",
        "shift_tokens_right",
    ],
    "nanohf.models.bert": [
        "BertConfig",
        "BertForMaskedLM",
        "BertForQuestionAnswering",
        "BertForSequenceClassification",
        "BertForTokenClassification",
        "BertModel",
    ],
    "nanohf.models.configuration_utils": ["PretrainedConfig", "PreTrainedConfig"],
    "nanohf.models.distilbert": [
        "DistilBertConfig",
        "DistilBertForMaskedLM",
        "DistilBertForQuestionAnswering",
        "DistilBertForSequenceClassification",
        "DistilBertForTokenClassification",
        "DistilBertModel",
    ],
    "nanohf.models.gpt2": ["GPT2Config", "GPT2ForSequenceClassification", "GPT2LMHeadModel", "GPT2Model"],
    "nanohf.models.llama": [
        "LlamaConfig",
        "LlamaForCausalLM",
        "LlamaForQuestionAnswering",
        "LlamaForSequenceClassification",
        "LlamaForTokenClassification",
        "LlamaModel",
    ],
    "nanohf.models.mistral": [
        "MistralConfig",
        "MistralForCausalLM",
        "MistralForSequenceClassification",
        "MistralForTokenClassification",
        "MistralModel",
    ],
    "nanohf.models.modeling_utils": ["PreTrainedModel"],
    "nanohf.models.outputs": [
        "BaseModelOutput",
        "BaseModelOutputWithPoolingAndCrossAttentions",
        "MaskedLMOutput",
        "ModelOutput",
        "QuestionAnsweringModelOutput",
        "SequenceClassifierOutput",
        "TokenClassifierOutput",
    ],
    "nanohf.models.qwen2": [
        "Qwen2Config",
        "Qwen2ForCausalLM",
        "Qwen2ForQuestionAnswering",
        "Qwen2ForSequenceClassification",
        "Qwen2ForTokenClassification",
        "Qwen2Model",
    ],
    "nanohf.models.roberta": [
        "RobertaConfig",
        "RobertaForMaskedLM",
        "RobertaForQuestionAnswering",
        "RobertaForSequenceClassification",
        "RobertaForTokenClassification",
        "RobertaModel",
    ],
    # optimizers, clipping, schedules: the same list as nanohf.optim.__all__ (tests/test_package.py checks)
    "nanohf.optim": [
        "AdamW",
        "LambdaLR",
        "Optimizer",
        "SGD",
        "SchedulerType",
        "TYPE_TO_SCHEDULER_FUNCTION",
        "clip_grad_norm_",
        "get_constant_schedule",
        "get_constant_schedule_with_warmup",
        "get_cosine_schedule_with_warmup",
        "get_cosine_with_hard_restarts_schedule_with_warmup",
        "get_inverse_sqrt_schedule",
        "get_linear_schedule_with_warmup",
        "get_polynomial_decay_schedule_with_warmup",
        "get_scheduler",
    ],
    "nanohf.pipelines": ["pipeline"],
    "nanohf.random": ["set_seed"],
    "nanohf.tokenizers": [
        "AddedToken",
        "AutoTokenizer",
        "BatchEncoding",
        "BertTokenizer",
        "BertTokenizerFast",
        "DistilBertTokenizer",
        "DistilBertTokenizerFast",
        "GPT2Tokenizer",
        "GPT2TokenizerFast",
        "RobertaTokenizer",
        "RobertaTokenizerFast",
        "PreTrainedTokenizerFast",
        "T5Tokenizer",
        "T5TokenizerFast",
        "AlbertTokenizer",
        "AlbertTokenizerFast",
        "XLNetTokenizer",
        "XLNetTokenizerFast",
        "XLMRobertaTokenizer",
        "XLMRobertaTokenizerFast",
        "LlamaTokenizer",
        "LlamaTokenizerFast",
        "Qwen2Tokenizer",
        "Qwen2TokenizerFast",
    ],
    "nanohf.trainer": [
        "EarlyStoppingCallback",
        "Trainer",
        "TrainerCallback",
        "TrainerControl",
        "TrainerState",
        "TrainingArguments",
    ],
    "nanohf.data.collator_seq2seq": ["DataCollatorForSeq2Seq"],
    "nanohf.trainer.seq2seq": ["Seq2SeqTrainer"],
    "nanohf.trainer.seq2seq_args": ["Seq2SeqTrainingArguments"],
}
_SUBPACKAGES = (
    "accelerate autograd cli compare data distributed evaluate generation generation_beam kernels metrics models nn"
    " optim pipelines plotting random tokenizers trainer"
).split()
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    """Import ``name`` from its module on first use and keep it here (later lookups are plain globals)."""
    if name in _MODULE_OF:
        value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"nanohf.{name}")
    else:
        raise AttributeError(f"module 'nanohf' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF) | set(_SUBPACKAGES))
