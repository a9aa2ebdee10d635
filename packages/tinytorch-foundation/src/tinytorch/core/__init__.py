"""tinytorch.core — Module 01 (Tensor) and Module 05 (Autograd).

Importing this package switches autograd on when Module 05 is implemented (always, in
the released tier); in a learner's tree with Module 05 still to write, gradients stay
dormant and everything from Modules 01–04 works as before.
"""

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
    get_rng,
    manual_seed,
    matmul_loops,
    ones,
    randn,
    tensor,
    zeros,
)

__all__ = [
    "Function",
    "GradcheckError",
    "GraphStats",
    "Tensor",
    "disable_autograd",
    "draw_graph",
    "enable_autograd",
    "enable_grad",
    "get_rng",
    "gradcheck",
    "graph_dot",
    "graph_stats",
    "is_autograd_active",
    "is_autograd_enabled",
    "is_grad_enabled",
    "manual_seed",
    "matmul_loops",
    "no_grad",
    "ones",
    "randn",
    "tensor",
    "unbroadcast",
    "zeros",
]

activate_if_implemented()
