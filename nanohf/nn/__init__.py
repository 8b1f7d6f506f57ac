"""Building blocks: Parameter, Module and the layers models are made of."""

from nanohf.nn.layers import Activation, Conv1D, Dropout, Embedding, LayerNorm, Linear
from nanohf.nn.module import Module, ModuleList, Parameter

__all__ = ["Activation", "Conv1D", "Dropout", "Embedding", "LayerNorm", "Linear", "Module", "ModuleList", "Parameter"]
