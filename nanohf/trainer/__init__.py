"""TrainingArguments, Trainer and callbacks: the course's chapter 3 training loop, packaged."""

from nanohf.trainer.callbacks import (
    CallbackHandler,
    EarlyStoppingCallback,
    TrainerCallback,
    TrainerControl,
    TrainerState,
)
from nanohf.trainer.label_smoothing import LabelSmoother
from nanohf.trainer.loop import TrainOutput
from nanohf.trainer.prediction import EvalLoopOutput, PredictionOutput
from nanohf.trainer.trainer import Trainer
from nanohf.trainer.training_args import TrainingArguments

__all__ = [
    "CallbackHandler",
    "EarlyStoppingCallback",
    "EvalLoopOutput",
    "LabelSmoother",
    "PredictionOutput",
    "TrainOutput",
    "Trainer",
    "TrainerCallback",
    "TrainerControl",
    "TrainerState",
    "TrainingArguments",
]
