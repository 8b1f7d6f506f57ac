"""nanohf: the Hugging Face transformers workflow, re-told in NumPy and Numba.

Public names only; each lives in one obvious module (see the README's map of the package).
"""

__version__ = "0.1.0"

from nanohf.accelerate import Accelerator
from nanohf.autograd import Loss, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from nanohf.data import (
    ClassLabel,
    DataCollatorForLanguageModeling,
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    DataLoader,
    Dataset,
    DatasetDict,
    default_data_collator,
    load_dataset,
    load_glue,
)
from nanohf.generation import GenerationConfig
from nanohf.metrics import EvalPrediction
from nanohf.models.auto import (
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForQuestionAnswering,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
)
from nanohf.models.bart import (
    BartConfig,
    BartForConditionalGeneration,
    BartForSequenceClassification,
    BartModel,
    shift_tokens_right,
)
from nanohf.models.bert import (
    BertConfig,
    BertForMaskedLM,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
)
from nanohf.models.configuration_utils import PretrainedConfig
from nanohf.models.distilbert import (
    DistilBertConfig,
    DistilBertForMaskedLM,
    DistilBertForQuestionAnswering,
    DistilBertForSequenceClassification,
    DistilBertForTokenClassification,
    DistilBertModel,
)
from nanohf.models.gpt2 import GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel, GPT2Model
from nanohf.models.modeling_utils import PreTrainedModel
from nanohf.models.outputs import (
    BaseModelOutput,
    BaseModelOutputWithPoolingAndCrossAttentions,
    MaskedLMOutput,
    ModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from nanohf.models.roberta import (
    RobertaConfig,
    RobertaForMaskedLM,
    RobertaForQuestionAnswering,
    RobertaForSequenceClassification,
    RobertaForTokenClassification,
    RobertaModel,
)
from nanohf.optim import *  # noqa: F403 -- optimizers, clipping, schedules: the list is nanohf.optim.__all__
from nanohf.pipelines import pipeline
from nanohf.random import set_seed
from nanohf.tokenizers import (
    AutoTokenizer,
    BatchEncoding,
    BertTokenizer,
    DistilBertTokenizer,
    GPT2Tokenizer,
    RobertaTokenizer,
)
from nanohf.trainer import (
    EarlyStoppingCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

PreTrainedConfig = PretrainedConfig  # transformers 5 spelling

__all__ = [name for name in dir() if not name.startswith("_")]
