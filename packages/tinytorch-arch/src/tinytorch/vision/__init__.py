"""tinytorch.vision — Module 09: convolution and pooling (architecture tier).

``Conv2d``, ``MaxPool2d``, ``AvgPool2d`` and ``Flatten`` are also registered in the
``tinytorch.nn`` entry-point group, so ``from tinytorch.nn import Conv2d`` works once
this tier is installed.
"""

from tinytorch.vision.spatial import (
    AvgPool2d,
    Conv2d,
    Flatten,
    MaxPool2d,
    ParameterComparison,
    avg_pool2d,
    col2im,
    conv2d,
    conv2d_loops,
    conv_output_size,
    im2col,
    kaiming_uniform,
    max_pool2d,
    parameter_comparison,
)

__all__ = [
    "AvgPool2d",
    "Conv2d",
    "Flatten",
    "MaxPool2d",
    "ParameterComparison",
    "avg_pool2d",
    "col2im",
    "conv2d",
    "conv2d_loops",
    "conv_output_size",
    "im2col",
    "kaiming_uniform",
    "max_pool2d",
    "parameter_comparison",
]
