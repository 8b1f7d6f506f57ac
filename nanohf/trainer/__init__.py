"""TrainingArguments, Trainer and callbacks: the course's chapter 3 training loop, packaged."""

from nanohf.trainer.callbacks import EarlyStoppingCallback, TrainerCallback, TrainerControl, TrainerState
from nanohf.trainer.trainer import PredictionOutput, Trainer, TrainOutput
from nanohf.trainer.training_args import TrainingArguments

__all__ = [
    "EarlyStoppingCallback",
    "PredictionOutput",
    "TrainOutput",
    "Trainer",
    "TrainerCallback",
    "TrainerControl",
    "TrainerState",
    "TrainingArguments",
]
