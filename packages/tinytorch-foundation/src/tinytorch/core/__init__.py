"""tinytorch.core — Module 01 (Tensor) and Module 05 (Autograd).

Importing this package switches autograd on when Module 05 is implemented (always, in
the released tier); in a learner's tree with Module 05 still to write, gradients stay
dormant and everything from Modules 01–04 works as before.
"""

import numpy as _np

from tinytorch.core.arguments import device
from tinytorch.core.autograd import (
    Function,
    activate_if_implemented,
    disable_autograd,
    enable_autograd,
    enable_grad,
    is_autograd_active,
    is_autograd_enabled,
    is_grad_enabled,
    no_grad,
    unbroadcast,
)
from tinytorch.core.creation import (
    from_numpy,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from tinytorch.core.graph_tools import (
    GradcheckError,
    GraphStats,
    draw_graph,
    gradcheck,
    graph_dot,
    graph_stats,
)
from tinytorch.core.tensor import (
    Tensor,
    flatten,
    get_rng,
    manual_seed,
    matmul,
    matmul_loops,
)

# PyTorch's dtype names, as the NumPy dtypes a Tensor's ``.dtype`` compares equal to:
# ``x.type(float32)``, ``x.dtype == int64``. The short aliases float, int and bool are
# here too (``import tinytorch.core as torch; torch.float``) but not in ``__all__``:
# a star-import must never hide Python's own float, int and bool.
float16 = half = _np.dtype(_np.float16)
float32 = float = _np.dtype(_np.float32)
float64 = double = _np.dtype(_np.float64)
int8, uint8 = _np.dtype(_np.int8), _np.dtype(_np.uint8)
int16 = short = _np.dtype(_np.int16)
int32 = int = _np.dtype(_np.int32)
int64 = long = _np.dtype(_np.int64)
bool = _np.dtype(_np.bool_)

__all__ = [
    "Function",
    "GradcheckError",
    "GraphStats",
    "Tensor",
    "device",
    "disable_autograd",
    "double",
    "draw_graph",
    "enable_autograd",
    "enable_grad",
    "flatten",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "get_rng",
    "gradcheck",
    "graph_dot",
    "graph_stats",
    "half",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_autograd_active",
    "is_autograd_enabled",
    "is_grad_enabled",
    "long",
    "manual_seed",
    "matmul",
    "matmul_loops",
    "no_grad",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randn",
    "short",
    "tensor",
    "uint8",
    "unbroadcast",
    "zeros",
    "zeros_like",
]

activate_if_implemented()
