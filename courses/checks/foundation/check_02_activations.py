"""Graded checks of Module 02 · Activations, including logits far beyond float range."""

import numpy as np

from tinytorch.core import Tensor
from tinytorch.nn.activations import gelu, log_softmax, relu, sigmoid, softmax, tanh

X = np.concatenate([np.linspace(-6.0, 6.0, 13), [-1e4, 1e4, -50.0, 50.0]])
LOGITS = np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0], [-3.0, -3.0, -3.0]])


def check_relu_sigmoid_tanh():
    """relu, sigmoid and tanh on -6..6 and at ±50 and ±1e4 (no overflow, no NaN)."""
    x = Tensor(X)
    return {"relu": relu(x).data, "sigmoid": sigmoid(x).data, "tanh": tanh(x).data}


def check_gelu():
    """GELU, tanh approximation, on -6..6 and at ±50 and ±1e4."""
    return gelu(Tensor(X)).data


def check_softmax():
    """softmax over rows and over columns, logits up to ±1e4."""
    x = Tensor(LOGITS)
    return {"rows": softmax(x).data, "columns": softmax(x, dim=0).data}


def check_log_softmax():
    """log_softmax over rows and over columns, logits up to ±1e4."""
    x = Tensor(LOGITS)
    return {"rows": log_softmax(x).data, "columns": log_softmax(x, dim=0).data}
