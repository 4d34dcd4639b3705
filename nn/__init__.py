"""gradviz's neural-network layer: modules, scalar (Value) networks, tensor
layers, losses, optimizers (``nn.optim``) and data helpers (``nn.data``)."""
from . import data, init, optim, plot, torch_compat
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .layers import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Identity,
    LeakyReLU,
    Linear,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Swish,
    Tanh,
    WidthError,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from .module import LOAD_MAX_RATIO, LOAD_MIN_BYTES, CheckpointError, Module, load_state, save_state
from .scalar import ACTIVATIONS, MLP, Layer, Neuron

__all__ = ["Module", "CheckpointError", "load_state", "save_state", "LOAD_MIN_BYTES",
           "LOAD_MAX_RATIO", "Neuron", "Layer", "MLP",
           "ACTIVATIONS", "Linear", "Sequential", "WidthError", "Identity", "ReLU", "Tanh",
           "Sigmoid", "LeakyReLU", "PReLU", "ELU", "SiLU", "Swish", "GELU", "Softmax", "Softplus",
           "SELU", "CELU", "Mish", "Hardswish", "Hardsigmoid", "ReLU6", "Softsign", "LogSigmoid",
           "MSELoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "L1Loss",
           "HuberLoss", "optim", "init", "plot", "data",
           "torch_compat", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten"]
