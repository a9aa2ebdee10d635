"""tinytorch.vision — Module 09: convolution and pooling (architecture tier).

``Conv2d``, ``MaxPool2d``, ``AvgPool2d`` and ``Flatten`` are also registered in the
``tinytorch.nn`` entry-point group, so ``from tinytorch.nn import Conv2d`` works once
this tier is installed.
"""

from tinytorch.vision import spatial
from tinytorch.vision.spatial import *  # noqa: F403 (its __all__, listed once)

__all__ = spatial.__all__
